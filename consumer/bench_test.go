package consumer_test

import (
	"context"
	"encoding/binary"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/streamcluster/streamcluster/consumer"
	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
	"github.com/streamcluster/streamcluster/streams"
)

// The benchmarks compare, in the same run and on the same shard, the
// transport (envelope encoding + Appender + consumer.Reader with batched,
// pipelined acks) with the raw Redis baseline: one rueidis XADD of a
// 100-byte field to one blocked XREADGROUP … NOACK reader, no envelope.
// Publisher and reader use separate clients, as two nodes would.
//
//	go test -run '^$' -bench . -benchtime 2000x ./consumer/

const benchPayload = 100

// benchRig holds both pipelines.
type benchRig struct {
	pub, sub           rueidis.Client
	app                *streams.Appender
	codec              *streams.Codec
	raw, rawAck, trans string // stream keys, same hash tag so same shard
	transNoAck         string
	base               time.Time
}

func newBenchRig(b *testing.B) *benchRig {
	b.Helper()
	cfg := streams.DefaultConfig()
	cfg.Addrs = testCluster.Addrs()
	cfg.Prefix = rediscluster.UniquePrefix(b)
	pub, err := streams.NewClient(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pub.Close)
	sub, err := streams.NewClient(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sub.Close)
	codec := streams.NewCodec(nil)
	keys := streams.NewKeys(cfg.Prefix)
	tag := "bench-" + strconv.Itoa(int(time.Now().UnixNano()%1e6))
	return &benchRig{
		pub: pub, sub: sub, codec: codec,
		app:        streams.NewAppender(pub, codec, cfg),
		trans:      keys.Inbox(tag),
		transNoAck: keys.NodeKey(tag, "noack"),
		raw:        cfg.Prefix + ":raw:{node-" + tag + "}",
		rawAck:     cfg.Prefix + ":rawack:{node-" + tag + "}",
		base:       time.Now(),
	}
}

// stamp returns a payload that carries the current time.
func (r *benchRig) stamp() []byte {
	p := make([]byte, benchPayload)
	binary.LittleEndian.PutUint64(p, uint64(time.Since(r.base)))
	return p
}

func (r *benchRig) since(p []byte) time.Duration {
	if len(p) < 8 {
		return -1
	}
	return time.Since(r.base) - time.Duration(binary.LittleEndian.Uint64(p))
}

func (r *benchRig) publishRaw(ctx context.Context) error {
	return r.pub.Do(ctx, r.xaddRaw(r.raw, string(r.stamp()))).Error()
}

func (r *benchRig) xaddRaw(stream, d string) rueidis.Completed {
	return r.pub.B().Xadd().Key(stream).Maxlen().Almost().Threshold(strconv.Itoa(streams.DefaultMaxLen)).Id("*").FieldValue().FieldValue("d", d).Build()
}

func (r *benchRig) envelope() streams.Envelope {
	return streams.Envelope{Type: "Notify", Sender: "bench-node", Incarnation: 1, Seq: 1, Time: time.Now().UnixMilli(), Payload: r.stamp()}
}

// runRaw runs a raw reader of stream until ctx ends, calling got for every
// entry. With ack false it reads with NOACK (no pending list at all: the
// floor); with ack true it acknowledges each batch with one XACK pipelined
// with the next read, as consumer.Reader does.
func (r *benchRig) runRaw(ctx context.Context, wg *sync.WaitGroup, stream string, ack bool, got func(d string)) {
	if err := r.sub.Do(ctx, r.sub.B().XgroupCreate().Key(stream).Group("g").Id("$").Mkstream().Build()).Error(); err != nil && !rueidis.IsRedisBusyGroup(err) {
		panic(err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ids []string
		for ctx.Err() == nil {
			var res map[string][]rueidis.XRangeEntry
			var err error
			if !ack {
				res, err = r.sub.Do(ctx, r.sub.B().Xreadgroup().Group("g", "c").Count(consumer.DefaultCount).Block(1000).Noack().Streams().Key(stream).Id(">").Build()).AsXRead()
			} else {
				rd := r.sub.B().Xreadgroup().Group("g", "c").Count(consumer.DefaultCount).Block(1000).Streams().Key(stream).Id(">").Build()
				if len(ids) > 0 {
					out := r.sub.DoMulti(ctx, r.sub.B().Xack().Key(stream).Group("g").Id(ids...).Build(), rd)
					res, err = out[1].AsXRead()
				} else {
					res, err = r.sub.Do(ctx, rd).AsXRead()
				}
				ids = ids[:0]
			}
			if err != nil {
				continue
			}
			for _, en := range res[stream] {
				ids = append(ids, en.ID)
				got(en.FieldValues["d"])
			}
		}
	}()
}

// runTransport runs a consumer.Reader of stream until ctx ends.
func (r *benchRig) runTransport(ctx context.Context, b *testing.B, wg *sync.WaitGroup, stream string, noAck bool, got func(m consumer.Message)) {
	cfg := consumer.Config{Stream: stream, Group: "g", Consumer: "c", NoAck: noAck}
	rd, err := consumer.New(r.sub, r.codec, cfg, func(_ context.Context, batch []consumer.Message) error {
		for _, m := range batch {
			got(m)
		}
		return nil
	}, nil)
	if err != nil {
		b.Fatal(err)
	}
	// Create the group before the first publish, as the reader would.
	if err := r.sub.Do(ctx, r.sub.B().XgroupCreate().Key(stream).Group("g").Id("$").Mkstream().Build()).Error(); err != nil && !rueidis.IsRedisBusyGroup(err) {
		b.Fatal(err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = rd.Run(ctx)
	}()
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// BenchmarkLatency measures publish→handler latency at 1k msg/s in total,
// rotating a raw message, a transport message (acknowledged reader) and a
// transport message to a NoAck reader, so all see the same machine noise.
// One op is one message of each.
func BenchmarkLatency(b *testing.B) {
	r := newBenchRig(b)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	rawLat := make(chan time.Duration, 1)
	transLat := make(chan time.Duration, 1)
	noAckLat := make(chan time.Duration, 1)
	r.runRaw(ctx, &wg, r.raw, false, func(d string) { rawLat <- r.since([]byte(d)) })
	r.runTransport(ctx, b, &wg, r.trans, false, func(m consumer.Message) { transLat <- r.since(m.Envelope.Payload) })
	r.runTransport(ctx, b, &wg, r.transNoAck, true, func(m consumer.Message) { noAckLat <- r.since(m.Envelope.Payload) })
	defer func() { cancel(); wg.Wait() }()

	// Let both readers block first.
	time.Sleep(100 * time.Millisecond)
	var raw, trans, noAck []time.Duration
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		<-tick.C
		if err := r.publishRaw(ctx); err != nil {
			b.Fatal(err)
		}
		raw = append(raw, <-rawLat)
		<-tick.C
		if _, err := r.app.Append(ctx, r.trans, r.envelope()); err != nil {
			b.Fatal(err)
		}
		trans = append(trans, <-transLat)
		<-tick.C
		if _, err := r.app.Append(ctx, r.transNoAck, r.envelope()); err != nil {
			b.Fatal(err)
		}
		noAck = append(noAck, <-noAckLat)
	}
	b.StopTimer()
	rp50, rp99 := percentile(raw, 0.50), percentile(raw, 0.99)
	tp50, tp99 := percentile(trans, 0.50), percentile(trans, 0.99)
	b.ReportMetric(us(rp50), "raw-p50-us")
	b.ReportMetric(us(rp99), "raw-p99-us")
	b.ReportMetric(us(tp50), "p50-us")
	b.ReportMetric(us(tp99), "p99-us")
	b.ReportMetric(float64(tp50)/float64(rp50), "p50-ratio")
	b.ReportMetric(float64(tp99)/float64(rp99), "p99-ratio")
	np50, np99 := percentile(noAck, 0.50), percentile(noAck, 0.99)
	b.ReportMetric(us(np50), "noack-p50-us")
	b.ReportMetric(us(np99), "noack-p99-us")
	b.ReportMetric(float64(np50)/float64(rp50), "noack-p50-ratio")
	b.ReportMetric(float64(np99)/float64(rp99), "noack-p99-ratio")
}

// BenchmarkThroughput pushes messages through four pipelines as fast as
// 4 publishers can (pipelined batches of 100: DoMulti of XADDs for raw,
// AppendBatch for the transport) and measures each round from the first
// publish to the last message handled. Rounds of 10k messages rotate raw
// (NOACK), raw with pipelined XACK, the transport and the transport with a
// NoAck reader; b.N messages go through each. Rates are the medians over rounds, ratios the medians of
// the per-round ratios, which cancels most of the machine noise.
func BenchmarkThroughput(b *testing.B) {
	const publishers, batch, round = 4, 100, 10000
	r := newBenchRig(b)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var rawN, rawAckN, transN, noAckN atomic.Int64
	r.runRaw(ctx, &wg, r.raw, false, func(string) { rawN.Add(1) })
	r.runRaw(ctx, &wg, r.rawAck, true, func(string) { rawAckN.Add(1) })
	r.runTransport(ctx, b, &wg, r.trans, false, func(consumer.Message) { transN.Add(1) })
	r.runTransport(ctx, b, &wg, r.transNoAck, true, func(consumer.Message) { noAckN.Add(1) })
	defer func() { cancel(); wg.Wait() }()
	time.Sleep(100 * time.Millisecond)

	// rate publishes n messages with send and returns messages per second.
	rate := func(n int, send func() error, got *atomic.Int64) float64 {
		start := time.Now()
		want := got.Load() + int64(n)
		var pw sync.WaitGroup
		for p := 0; p < publishers; p++ {
			pw.Add(1)
			go func() {
				defer pw.Done()
				for sent := 0; sent < n/publishers; sent += batch {
					if err := send(); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		pw.Wait()
		for got.Load() < want {
			time.Sleep(50 * time.Microsecond)
		}
		return float64(n) / time.Since(start).Seconds()
	}
	sendRaw := func(stream string) func() error {
		return func() error {
			cmds := make(rueidis.Commands, batch)
			for i := range cmds {
				cmds[i] = r.xaddRaw(stream, string(r.stamp()))
			}
			for _, res := range r.pub.DoMulti(ctx, cmds...) {
				if err := res.Error(); err != nil {
					return err
				}
			}
			return nil
		}
	}
	sendTrans := func(stream string) func() error {
		return func() error {
			entries := make([]streams.Entry, batch)
			for i := range entries {
				entries[i] = streams.Entry{Stream: stream, Envelope: r.envelope()}
			}
			for _, res := range r.app.AppendBatch(ctx, entries) {
				if res.Err != nil {
					return res.Err
				}
			}
			return nil
		}
	}

	var raws, rawAcks, transs, noAcks, ratios, ratiosAck, ratiosNoAck []float64
	b.ResetTimer()
	for total := 0; total < b.N; total += round {
		raw := rate(round, sendRaw(r.raw), &rawN)
		rawAck := rate(round, sendRaw(r.rawAck), &rawAckN)
		trans := rate(round, sendTrans(r.trans), &transN)
		noAck := rate(round, sendTrans(r.transNoAck), &noAckN)
		raws, rawAcks, transs, noAcks = append(raws, raw), append(rawAcks, rawAck), append(transs, trans), append(noAcks, noAck)
		ratios, ratiosAck, ratiosNoAck = append(ratios, trans/raw), append(ratiosAck, trans/rawAck), append(ratiosNoAck, noAck/raw)
	}
	b.StopTimer()
	b.ReportMetric(median(raws), "raw-msg/s")
	b.ReportMetric(median(rawAcks), "raw-ack-msg/s")
	b.ReportMetric(median(transs), "msg/s")
	b.ReportMetric(median(noAcks), "noack-msg/s")
	b.ReportMetric(median(ratios), "tput-ratio")
	b.ReportMetric(median(ratiosAck), "tput-ratio-vs-raw-ack")
	b.ReportMetric(median(ratiosNoAck), "noack-tput-ratio")
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
