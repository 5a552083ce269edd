package koncorde

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// evalTree is the naive evaluator of a standardized filter: it walks the
// and/or/not tree that the standardizer returns, without the canonical form,
// the removal of impossible groups or any index. "not" sits on keyword
// filters only (the standardizer pushes it down), and a negated keyword has
// Koncorde's negated semantics (see condition.eval).
func evalTree(t testing.TB, std *jvalue, d *docView) bool {
	if len(std.keys) == 0 {
		return true
	}
	k, v := std.keys[0], std.vals[0]
	switch k {
	case "and":
		for _, c := range v.arr {
			if !evalTree(t, c, d) {
				return false
			}
		}
		return true
	case "or":
		for _, c := range v.arr {
			if evalTree(t, c, d) {
				return true
			}
		}
		return false
	case "not":
		if len(v.keys) == 1 && v.keys[0] != "and" && v.keys[0] != "or" && v.keys[0] != "not" {
			return evalLeaf(t, literalOf(v, true), d)
		}
		return !evalTree(t, v, d)
	}
	return evalLeaf(t, literalOf(std, false), d)
}

type leafKey struct {
	v   *jvalue
	not bool
}

// leafCache keeps compiled leaves of evalTree (tests run it sequentially).
var leafCache = map[leafKey]*condition{}

func evalLeaf(t testing.TB, l rawLiteral, d *docView) bool {
	k := leafKey{l.value, l.not}
	c := leafCache[k]
	if c == nil {
		var err error
		c, err = compileLiteral(l, &canonicalizer{maxConditions: 1000, maxConjunctions: 100000})
		require.NoError(t, err)
		leafCache[k] = c
	}
	return c.eval(d)
}

type refRoom struct {
	id  string
	std *jvalue
	f   *Filter
}

// TestPropertyEngineMatchesNaive registers random filters in the indexed
// engine and compares, for random documents, its answer with the naive
// evaluation of every filter's standardized tree and of its normalized form.
func TestPropertyEngineMatchesNaive(t *testing.T) {
	t.Run("field-lookup", func(t *testing.T) { testPropertyEngine(t, fieldLookupMax) })
	t.Run("document-walk", func(t *testing.T) { testPropertyEngine(t, -1) })
}

func testPropertyEngine(t *testing.T, lookupMax int) {
	iterations := 400
	if testing.Short() {
		iterations = 50
	}
	cfg := DefaultConfig()
	comparisons, matches := 0, 0
	for it := 0; it < iterations; it++ {
		g := newGen(uint64(it) + 1)
		e := NewEngine(cfg)
		e.lookupMax = lookupMax
		var rooms []refRoom
		for i := 0; i < 25; i++ {
			src := g.filter(3)
			f, err := Normalize(cfg, "idx", "col", json.RawMessage(src))
			if err != nil {
				// Koncorde refuses some valid-looking combinations (for example
				// a geo keyword under a distributed "not"): skip them.
				continue
			}
			var s standardizer
			v, err := parseJSON([]byte(src))
			require.NoError(t, err)
			std, err := s.standardize(v, "")
			require.NoError(t, err)
			id, created := e.Register(f)
			if created {
				rooms = append(rooms, refRoom{id: id, std: std, f: f})
			}
		}
		// Remove a few rooms, and register some twice, to exercise sharing.
		for i := 0; i < len(rooms); i += 4 {
			e.Remove(rooms[i].id)
		}
		for i := 0; i < len(rooms); i += 8 {
			e.Register(rooms[i].f)
		}
		live := map[string]refRoom{}
		for i, r := range rooms {
			if i%4 != 0 || i%8 == 0 {
				live[r.id] = r
			}
		}
		for j := 0; j < 40; j++ {
			doc, id := g.doc()
			d := docView{m: doc, id: id}
			var want, wantDNF []string
			for rid, r := range live {
				if evalTree(t, r.std, &d) {
					want = append(want, rid)
				}
				if r.f.Match(doc, id) {
					wantDNF = append(wantDNF, rid)
				}
			}
			got := e.Test("idx", "col", doc, id)
			sort.Strings(want)
			sort.Strings(wantDNF)
			sort.Strings(got)
			comparisons += len(live)
			matches += len(want)
			if !equalStrings(want, got) || !equalStrings(want, wantDNF) {
				var filters []string
				for _, rid := range symmetricDiff(want, got, wantDNF) {
					filters = append(filters, fmt.Sprintf("%s normalized=%s tree=%v dnf=%v engine=%v",
						rid[:8], live[rid].f.NormalizedJSON(), contains(want, rid), contains(wantDNF, rid), contains(got, rid)))
				}
				t.Fatalf("iteration %d doc %v id %q: disagreement on\n%v", it, doc, id, filters)
			}
		}
		require.Empty(t, e.Test("idx", "other", map[string]any{"a": 1.0}, ""))
		clear(leafCache)
	}
	t.Logf("%d filter×document comparisons, %d matches", comparisons, matches)
	require.Greater(t, matches, comparisons/20, "the generator must produce matches")
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

func symmetricDiff(sets ...[]string) []string {
	count := map[string]int{}
	for _, s := range sets {
		for _, x := range s {
			count[x]++
		}
	}
	var out []string
	for x, n := range count {
		if n != len(sets) {
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

// TestEngineConcurrentReadersAndWriter runs Test calls in parallel with
// registrations and removals (run with -race).
func TestEngineConcurrentReadersAndWriter(t *testing.T) {
	cfg := DefaultConfig()
	e := NewEngine(cfg)
	g := newGen(42)
	var filters []*Filter
	for len(filters) < 200 {
		f, err := Normalize(cfg, "idx", "col", json.RawMessage(g.filter(2)))
		if err == nil {
			filters = append(filters, f)
		}
	}
	docs := make([]map[string]any, 50)
	ids := make([]string, 50)
	for i := range docs {
		docs[i], ids[i] = g.doc()
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var buf []string
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				d := i % len(docs)
				buf = e.TestAppend(buf[:0], "idx", "col", docs[d], ids[d])
				for _, id := range buf {
					if f, ok := e.Filter(id); ok && !f.Match(docs[d], ids[d]) {
						// The room may have been removed and re-registered in
						// between: only a registered, non-matching room is an error.
						if e.Has(id) {
							t.Errorf("room %s returned for a document it does not match", id)
							return
						}
					}
				}
			}
		}(w)
	}
	for round := 0; round < 20; round++ {
		for _, f := range filters {
			e.Register(f)
		}
		for i, f := range filters {
			if i%2 == round%2 {
				e.Remove(f.RoomID())
			}
		}
	}
	close(stop)
	wg.Wait()
}

// TestAmbiguousDottedPaths: a literal dotted key and a nested path naming the
// same field resolve the same way in both Test modes and in the reference,
// whatever the map iteration order (Koncorde itself depends on key order).
func TestAmbiguousDottedPaths(t *testing.T) {
	f, err := Normalize(DefaultConfig(), "i", "c", json.RawMessage(`{"equals":{"a.b.c":1}}`))
	require.NoError(t, err)
	g, err := Normalize(DefaultConfig(), "i", "c", json.RawMessage(`{"equals":{"a.b.c":2}}`))
	require.NoError(t, err)
	docs := []map[string]any{
		{"a.b.c": 1.0, "a": map[string]any{"b": map[string]any{"c": 2.0}}},
		{"a": map[string]any{"b.c": 1.0, "b": map[string]any{"c": 2.0}}},
		{"a.b": map[string]any{"c": 1.0}, "a": map[string]any{"b": map[string]any{"c": 2.0}}},
	}
	for _, lookupMax := range []int{fieldLookupMax, -1} {
		e := NewEngine(DefaultConfig())
		e.lookupMax = lookupMax
		e.Register(f)
		e.Register(g)
		for i, d := range docs {
			for k := 0; k < 20; k++ { // map order varies between runs
				var want []string
				for _, x := range []*Filter{f, g} {
					if x.Match(d, "") {
						want = append(want, x.RoomID())
					}
				}
				require.Len(t, want, 1)
				require.Equal(t, want, e.Test("i", "c", d, ""), "doc %d lookupMax %d", i, lookupMax)
			}
		}
	}
}
