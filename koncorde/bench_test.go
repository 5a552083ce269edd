package koncorde

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The benchmark workload: rooms with a mix of keywords on one collection,
// and documents that each match a few of them. The same filters and
// documents are given to Koncorde JS by BenchmarkKoncordeJS.

type workload struct {
	Filters []json.RawMessage `json:"filters"`
	Docs    []map[string]any  `json:"docs"`
	IDs     []string          `json:"ids"`
}

const (
	benchIndex      = "bench-index"
	benchCollection = "bench-collection"
	benchDocs       = 1000
)

// mixedFilter returns the i-th filter of the mixed workload.
func mixedFilter(r *rand.Rand, i int) string {
	switch p := r.IntN(100); {
	case p < 40: // equals on a high-cardinality field
		return fmt.Sprintf(`{"equals":{"user":"u%d"}}`, r.IntN(1_000_000))
	case p < 55: // range
		lo := r.IntN(10_000)
		return fmt.Sprintf(`{"range":{"price":{"gte":%d,"lt":%d}}}`, lo, lo+1+r.IntN(20))
	case p < 70: // equals and range
		lo := r.IntN(10_000)
		return fmt.Sprintf(`{"and":[{"equals":{"category":"c%d"}},{"range":{"price":{"gt":%d,"lte":%d}}}]}`,
			r.IntN(200), lo, lo+1+r.IntN(100))
	case p < 80: // in
		return fmt.Sprintf(`{"in":{"status":["s%d","s%d","s%d"]}}`, r.IntN(5000), r.IntN(5000), r.IntN(5000))
	case p < 84: // exists / missing on nested fields
		if r.IntN(2) == 0 {
			return fmt.Sprintf(`{"exists":"meta.k%d"}`, r.IntN(1000))
		}
		return fmt.Sprintf(`{"and":[{"equals":{"category":"c%d"}},{"missing":"meta.k%d"}]}`, r.IntN(200), r.IntN(1000))
	case p < 89: // geo
		return fmt.Sprintf(`{"geoDistance":{"location":{"lat":%.3f,"lon":%.3f},"distance":"%dkm"}}`,
			r.Float64()*160-80, r.Float64()*360-180, 1+r.IntN(50))
	case p < 94: // bool
		return fmt.Sprintf(`{"bool":{"must":[{"equals":{"category":"c%d"}}],"must_not":[{"equals":{"status":"s%d"}}],"should":[{"range":{"price":{"lt":%d}}},{"equals":{"user":"u%d"}}]}}`,
			r.IntN(200), r.IntN(5000), r.IntN(10_000), r.IntN(1_000_000))
	case p < 99: // ids
		return fmt.Sprintf(`{"ids":{"values":["doc-%d","doc-%d"]}}`, r.IntN(100_000), r.IntN(100_000))
	default: // regexp
		return fmt.Sprintf(`{"regexp":{"name":{"value":"^n%d","flags":"i"}}}`, r.IntN(1000))
	}
}

// equalsRangeFilter is the hot-path workload: equals and range only.
func equalsRangeFilter(r *rand.Rand, i int) string {
	if r.IntN(2) == 0 {
		return fmt.Sprintf(`{"equals":{"user":"u%d"}}`, r.IntN(1_000_000))
	}
	lo := r.IntN(10_000)
	return fmt.Sprintf(`{"and":[{"equals":{"category":"c%d"}},{"range":{"price":{"gte":%d,"lt":%d}}}]}`,
		r.IntN(200), lo, lo+1+r.IntN(100))
}

func benchDoc(r *rand.Rand, i int) (map[string]any, string) {
	meta := map[string]any{}
	for j := 0; j < 3; j++ {
		meta[fmt.Sprintf("k%d", r.IntN(1000))] = float64(j)
	}
	d := map[string]any{
		"user":     fmt.Sprintf("u%d", r.IntN(1_000_000)),
		"category": fmt.Sprintf("c%d", r.IntN(200)),
		"price":    float64(r.IntN(10_000)) + 0.5,
		"status":   fmt.Sprintf("s%d", r.IntN(5000)),
		"name":     fmt.Sprintf("N%d-item", r.IntN(10_000)),
		"location": map[string]any{"lat": r.Float64()*160 - 80, "lon": r.Float64()*360 - 180},
		"meta":     meta,
		"tags":     []any{"a", "b"},
	}
	return d, fmt.Sprintf("doc-%d", r.IntN(100_000))
}

func makeWorkload(rooms int, filter func(*rand.Rand, int) string) workload {
	r := rand.New(rand.NewPCG(uint64(rooms), 7))
	var w workload
	for i := 0; i < rooms; i++ {
		w.Filters = append(w.Filters, json.RawMessage(filter(r, i)))
	}
	for i := 0; i < benchDocs; i++ {
		d, id := benchDoc(r, i)
		w.Docs = append(w.Docs, d)
		w.IDs = append(w.IDs, id)
	}
	return w
}

func registerAll(tb testing.TB, e *Engine, w workload) {
	tb.Helper()
	for _, f := range w.Filters {
		nf, err := e.Normalize(benchIndex, benchCollection, f)
		if err != nil {
			tb.Fatal(err)
		}
		e.Register(nf)
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

var roomCounts = []int{1_000, 10_000, 100_000}

// BenchmarkTest measures the cost of testing one document against 1k, 10k
// and 100k registered rooms of mixed keywords, and the memory per room.
func BenchmarkTest(b *testing.B) {
	for _, kind := range []struct {
		name   string
		filter func(*rand.Rand, int) string
	}{{"mixed", mixedFilter}, {"equals-range", equalsRangeFilter}} {
		for _, n := range roomCounts {
			b.Run(fmt.Sprintf("%s/rooms=%d", kind.name, n), func(b *testing.B) {
				w := makeWorkload(n, kind.filter)
				before := heapInUse()
				e := NewEngine(DefaultConfig())
				registerAll(b, e, w)
				after := heapInUse()
				matched := 0
				for i, d := range w.Docs {
					matched += len(e.Test(benchIndex, benchCollection, d, w.IDs[i]))
				}
				buf := make([]string, 0, 1024)
				b.ReportAllocs()
				b.ResetTimer()
				i := 0
				for b.Loop() {
					d := i % len(w.Docs)
					buf = e.TestAppend(buf[:0], benchIndex, benchCollection, w.Docs[d], w.IDs[d])
					i++
				}
				b.ReportMetric(float64(after-before)/float64(e.Len()), "B/room")
				b.ReportMetric(float64(matched)/float64(len(w.Docs)), "matches/doc")
				runtime.KeepAlive(e)
			})
		}
	}
}

// BenchmarkRegister measures normalization plus registration throughput.
func BenchmarkRegister(b *testing.B) {
	w := makeWorkload(100_000, mixedFilter)
	b.ReportAllocs()
	e := NewEngine(DefaultConfig())
	i := 0
	for b.Loop() {
		if i == len(w.Filters) {
			e = NewEngine(DefaultConfig())
			i = 0
		}
		nf, err := e.Normalize(benchIndex, benchCollection, w.Filters[i])
		if err != nil {
			b.Fatal(err)
		}
		e.Register(nf)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rooms/s")
}

// BenchmarkKoncordeJS runs the same workloads through the koncorde npm
// package (bench/koncorde-js, `npm ci` there first) and reports its numbers,
// so that one `go test -bench .` run gives both sides. Skipped when node or
// the npm package is missing.
func BenchmarkKoncordeJS(b *testing.B) {
	dir, err := filepath.Abs("../bench/koncorde-js")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		b.Skip("node not installed")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "koncorde")); err != nil {
		b.Skip("run `npm ci` in bench/koncorde-js first")
	}
	for _, kind := range []struct {
		name   string
		filter func(*rand.Rand, int) string
	}{{"mixed", mixedFilter}, {"equals-range", equalsRangeFilter}} {
		for _, n := range roomCounts {
			b.Run(fmt.Sprintf("%s/rooms=%d", kind.name, n), func(b *testing.B) {
				w := makeWorkload(n, kind.filter)
				f, err := os.CreateTemp("", "koncorde-workload-*.json")
				if err != nil {
					b.Fatal(err)
				}
				defer os.Remove(f.Name())
				if err := json.NewEncoder(f).Encode(w); err != nil {
					b.Fatal(err)
				}
				f.Close()
				var out bytes.Buffer
				cmd := exec.Command("node", "--expose-gc", filepath.Join(dir, "bench.js"), f.Name(), benchIndex+"/"+benchCollection)
				cmd.Stdout = &out
				cmd.Stderr = os.Stderr
				if err := cmd.Run(); err != nil {
					b.Fatalf("node bench.js: %v", err)
				}
				var res struct {
					NsPerDoc     float64 `json:"nsPerDoc"`
					RoomsPerSec  float64 `json:"roomsPerSec"`
					BytesPerRoom float64 `json:"bytesPerRoom"`
					MatchesPer   float64 `json:"matchesPerDoc"`
				}
				if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &res); err != nil {
					b.Fatalf("bench.js output %q: %v", strings.TrimSpace(out.String()), err)
				}
				// The Go engine on the same workload, measured right after
				// node exits, so that both sides see the same machine load.
				goNs := goNsPerDoc(b, w)
				for b.Loop() {
				}
				b.ReportMetric(0, "ns/op")
				b.ReportMetric(goNs, "go-ns/doc")
				b.ReportMetric(res.NsPerDoc, "js-ns/doc")
				b.ReportMetric(res.NsPerDoc/goNs, "speedup")
				b.ReportMetric(res.RoomsPerSec, "js-rooms/s")
				b.ReportMetric(res.BytesPerRoom, "js-B/room")
				b.ReportMetric(res.MatchesPer, "matches/doc")
			})
		}
	}
}

// goNsPerDoc registers w's filters and times passes over its documents for
// two seconds, like bench.js does for Koncorde JS.
func goNsPerDoc(tb testing.TB, w workload) float64 {
	e := NewEngine(DefaultConfig())
	registerAll(tb, e, w)
	buf := make([]string, 0, 1024)
	for i, d := range w.Docs { // warm up
		buf = e.TestAppend(buf[:0], benchIndex, benchCollection, d, w.IDs[i])
	}
	n := 0
	start := time.Now()
	for time.Since(start) < 2*time.Second {
		for i, d := range w.Docs {
			buf = e.TestAppend(buf[:0], benchIndex, benchCollection, d, w.IDs[i])
		}
		n += len(w.Docs)
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

// TestBenchmarkWorkloadAgreesWithReference checks, on the 1k-room mixed
// workload, that the engine gives the same rooms as the naive evaluation.
func TestBenchmarkWorkloadAgreesWithReference(t *testing.T) {
	w := makeWorkload(1000, mixedFilter)
	e := NewEngine(DefaultConfig())
	registerAll(t, e, w)
	total := 0
	for i, d := range w.Docs[:200] {
		got := e.Test(benchIndex, benchCollection, d, w.IDs[i])
		want := 0
		for _, id := range e.Rooms(benchIndex, benchCollection) {
			f, _ := e.Filter(id)
			if f.Match(d, w.IDs[i]) {
				want++
			}
		}
		if len(got) != want {
			t.Fatalf("doc %d: engine %d rooms, reference %d", i, len(got), want)
		}
		total += want
	}
	if total == 0 {
		t.Fatal("the workload's documents match nothing")
	}
}
