package harness

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
)

// sink forwards probes to the current recorder and counts every probe seen,
// including warm-up probes, so a workload can tell when its receivers are
// live.
type sink struct {
	cur  atomic.Pointer[recorder]
	seen atomic.Int64
}

func (s *sink) observe(p []byte) {
	s.seen.Add(1)
	if r := s.cur.Load(); r != nil {
		r.observe(p)
	}
}

// warmUp sends one run-0 probe every 10 ms until check reports that the
// receivers are live, at most for timeout.
func warmUp(ctx context.Context, clk clock, timeout time.Duration, send func(probe []byte) error, check func() bool) error {
	deadline := time.Now().Add(timeout)
	var buf []byte
	for i := 0; time.Now().Before(deadline); i++ {
		buf = encodeProbe(buf[:0], 0, i, clk.now())
		if err := send(buf); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
		if check() {
			return nil
		}
	}
	return fmt.Errorf("harness: no probe delivered within %s", timeout)
}

// measureRate runs one paced window into a fresh recorder and fills a
// LatencyRun. send gets the batch's probes already encoded.
func measureRate(ctx context.Context, cfg Config, clk clock, meter *cpuMeter, s *sink, rate, receivers int,
	send func(probes [][]byte) error) LatencyRun {
	expectedCap := int(int64(rate)*int64(cfg.Duration)/int64(time.Second)) * receivers
	rec := newRecorder(clk, expectedCap)
	s.cur.Store(rec)
	defer s.cur.Store(nil)
	var probes [][]byte
	cpu0 := meter.sample(ctx)
	sent, took, err := pace(ctx, rate, cfg.Duration, func(seq, n int) error {
		probes = probes[:0]
		for i := range n {
			probes = append(probes, encodeProbe(nil, rec.run, seq+i, clk.now()))
		}
		return send(probes)
	})
	run := LatencyRun{TargetRate: rate, Sent: sent, SentRate: float64(sent) / took.Seconds()}
	run.Expected = int64(sent) * int64(receivers)
	run.Lost = rec.finish(ctx, run.Expected, cfg.Drain)
	run.Delivered = run.Expected - run.Lost
	run.CPU = cpu0.use(meter.sample(ctx), run.Delivered)
	samples := rec.take()
	run.Histogram = NewHistogram(samples)
	run.Latency = Summarize(samples)
	if err != nil {
		run.Error = err.Error()
	}
	return run
}

// runPing measures sequential PING round trips over the cluster client.
func runPing(ctx context.Context, cfg Config, client rueidis.Client) LatencyRun {
	run := LatencyRun{Workload: "ping"}
	cmd := func() rueidis.Completed { return client.B().Ping().Build() }
	for range 200 { // warm-up
		if err := client.Do(ctx, cmd()).Error(); err != nil {
			run.Error = err.Error()
			return run
		}
	}
	samples := make([]time.Duration, 0, cfg.PingCount)
	start := time.Now()
	for range cfg.PingCount {
		t := time.Now()
		if err := client.Do(ctx, cmd()).Error(); err != nil {
			run.Error = err.Error()
			break
		}
		samples = append(samples, time.Since(t))
	}
	run.Sent = len(samples)
	run.SentRate = float64(len(samples)) / time.Since(start).Seconds()
	run.Expected, run.Delivered = int64(len(samples)), int64(len(samples))
	run.Histogram = NewHistogram(samples)
	run.Latency = Summarize(samples)
	return run
}

// runXadd measures XADD (pipelined from the pacer) → one consumer blocked in
// XREADGROUP COUNT 1000, which XACKs each batch. Producer and consumer both
// reach the stream's slot owner through the cluster client.
func runXadd(ctx context.Context, cfg Config, clk clock, meter *cpuMeter, client rueidis.Client) []LatencyRun {
	key := fmt.Sprintf("bench:{xadd-%d}", time.Now().UnixNano())
	fail := func(err error) []LatencyRun {
		return []LatencyRun{{Workload: "xadd-xreadgroup", Error: err.Error()}}
	}
	if err := client.Do(ctx, client.B().XgroupCreate().Key(key).Group("g").Id("$").Mkstream().Build()).Error(); err != nil {
		return fail(err)
	}
	defer client.Do(context.Background(), client.B().Del().Key(key).Build())

	var s sink
	cctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var readErr atomic.Pointer[error]
	wg.Go(func() { // owner: runXadd, which stops and waits below
		read := client.B().Xreadgroup().Group("g", "c1").Count(1000).Block(200).Streams().Key(key).Id(">").Build().Pin()
		for cctx.Err() == nil {
			res, err := client.Do(cctx, read).AsXRead()
			if rueidis.IsRedisNil(err) {
				continue
			}
			if err != nil {
				if cctx.Err() == nil {
					readErr.Store(&err)
					time.Sleep(10 * time.Millisecond) // bounded retry pace
				}
				continue
			}
			ids := make([]string, 0, len(res[key]))
			for _, e := range res[key] {
				s.observe([]byte(e.FieldValues["d"]))
				ids = append(ids, e.ID)
			}
			if len(ids) > 0 {
				client.Do(cctx, client.B().Xack().Key(key).Group("g").Id(ids...).Build())
			}
		}
	})
	defer func() { stop(); wg.Wait() }()

	xadd := func(p []byte) rueidis.Completed {
		return client.B().Xadd().Key(key).Maxlen().Almost().Threshold("10000").Id("*").FieldValue().FieldValue("d", string(p)).Build()
	}
	send := func(probes [][]byte) error {
		cmds := make(rueidis.Commands, len(probes))
		for i, p := range probes {
			cmds[i] = xadd(p)
		}
		return doAll(ctx, client, cmds)
	}
	if err := warmUp(ctx, clk, 5*time.Second, func(p []byte) error { return send([][]byte{p}) },
		func() bool { return s.seen.Load() > 0 }); err != nil {
		return fail(err)
	}
	var runs []LatencyRun
	for _, rate := range cfg.Rates {
		run := measureRate(ctx, cfg, clk, meter, &s, rate, 1, send)
		run.Workload = "xadd-xreadgroup"
		if e := readErr.Load(); e != nil && run.Error == "" {
			run.Error = "reader: " + (*e).Error()
		}
		runs = append(runs, run)
	}
	return runs
}

// otherMaster returns the index of a master other than m, found by asking
// the owner of a few keys.
func otherMaster(ctx context.Context, rc *rediscluster.Cluster, m int) (int, error) {
	for i := range 64 {
		o, err := rc.MasterFor(ctx, "probe-"+strconv.Itoa(i))
		if err != nil {
			return -1, err
		}
		if o != m {
			return o, nil
		}
	}
	return -1, errors.New("harness: no second master found")
}

func pinnedClient(addr string) (rueidis.Client, error) {
	return rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, ForceSingleClient: true, DisableCache: true})
}

// runPubSub measures PUBLISH → SUBSCRIBE with single-node clients: the
// publisher on the master owning the channel's slot, the subscriber on the
// same master, or with bus on another master (one cluster-bus hop).
func runPubSub(ctx context.Context, cfg Config, clk clock, meter *cpuMeter, rc *rediscluster.Cluster, bus bool) []LatencyRun {
	name := "pubsub"
	if bus {
		name = "pubsub-bus"
	}
	fail := func(err error) []LatencyRun { return []LatencyRun{{Workload: name, Error: err.Error()}} }
	ch := fmt.Sprintf("bench-ps-%d", time.Now().UnixNano())
	pubIdx, err := rc.MasterFor(ctx, ch)
	if err != nil {
		return fail(err)
	}
	subIdx := pubIdx
	if bus {
		if subIdx, err = otherMaster(ctx, rc, pubIdx); err != nil {
			return fail(err)
		}
	}
	pub, err := pinnedClient(rc.Addr(pubIdx))
	if err != nil {
		return fail(err)
	}
	defer pub.Close()
	sub, err := pinnedClient(rc.Addr(subIdx))
	if err != nil {
		return fail(err)
	}
	defer sub.Close()

	var s sink
	cctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { // owner: runPubSub, which stops and waits below
		_ = sub.Receive(cctx, sub.B().Subscribe().Channel(ch).Build(), func(m rueidis.PubSubMessage) {
			s.observe([]byte(m.Message))
		})
	})
	defer func() { stop(); wg.Wait() }()

	send := func(probes [][]byte) error {
		cmds := make(rueidis.Commands, len(probes))
		for i, p := range probes {
			cmds[i] = pub.B().Publish().Channel(ch).Message(string(p)).Build()
		}
		return doAll(ctx, pub, cmds)
	}
	if err := warmUp(ctx, clk, 5*time.Second, func(p []byte) error { return send([][]byte{p}) },
		func() bool { return s.seen.Load() > 0 }); err != nil {
		return fail(err)
	}
	var runs []LatencyRun
	for _, rate := range cfg.Rates {
		run := measureRate(ctx, cfg, clk, meter, &s, rate, 1, send)
		run.Workload = name
		runs = append(runs, run)
	}
	return runs
}

// doAll sends cmds in one pipelined round trip and returns the first error.
func doAll(ctx context.Context, c rueidis.Client, cmds rueidis.Commands) error {
	for _, r := range c.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			return err
		}
	}
	return nil
}
