package harness

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// realtimeTopology says where the publisher and the subscribers connect.
// Same-node: PublishNode 0, SubscribeNodes [0]. Cross-node: PublishNode 0,
// SubscribeNodes [1] (or more).
type realtimeTopology struct {
	Workload       string
	PublishNode    int
	SubscribeNodes []int
	Subscribers    int   // per subscribing node
	Rates          []int // offered loads, in order
	// Ladder stops after the first rate that is not sustained (see
	// sustained).
	Ladder bool
}

// Sustained-rate rule of the fan-out ladder, the same as the peers'
// measurement in reference/peer-baselines.md.
const (
	sustainedP99Ms    = 10.0
	sustainedSentRate = 0.95
)

// sustained reports whether a run passed the ladder rule: nothing lost,
// p99 ≤ 10 ms, at least 95 % of the target rate sent, no error.
func sustained(l LatencyRun) bool {
	return l.Error == "" && l.Lost == 0 && l.Latency.Count > 0 && l.Latency.P99Ms <= sustainedP99Ms &&
		l.SentRate >= sustainedSentRate*float64(l.TargetRate)
}

// runRealtime measures realtime:publish on one node → document notification
// on every subscriber, at each configured rate. Each subscriber subscribes to
// every document of a fresh collection, so every publish is delivered
// SubscribeNodes × Subscribers times.
func runRealtime(ctx context.Context, cfg Config, clk clock, redis *cpuMeter, nodes []*nodeProc, topo realtimeTopology) []LatencyRun {
	base := LatencyRun{Workload: topo.Workload, Nodes: len(nodes), PublishNode: topo.PublishNode,
		SubscribeNodes: topo.SubscribeNodes, SubscribersPerNode: topo.Subscribers}
	fail := func(err error) []LatencyRun {
		r := base
		r.Error = err.Error()
		return []LatencyRun{r}
	}
	const index = "bench"
	collection := "c" + strconv.FormatInt(time.Now().UnixNano(), 36)

	var s sink
	var subs []*wsClient
	defer func() {
		for _, c := range subs {
			c.close()
		}
	}()
	for _, n := range topo.SubscribeNodes {
		if n >= len(nodes) {
			return fail(fmt.Errorf("harness: subscribe node %d of %d", n, len(nodes)))
		}
		for range topo.Subscribers {
			c, err := dialWS(ctx, nodes[n].addr, s.observe)
			if err != nil {
				return fail(err)
			}
			subs = append(subs, c)
			if err := c.subscribe(ctx, index, collection); err != nil {
				return fail(err)
			}
		}
	}
	pub, err := dialWS(ctx, nodes[topo.PublishNode].addr, nil)
	if err != nil {
		return fail(err)
	}
	defer pub.close()

	var buf []byte
	send := func(probes [][]byte) error {
		for _, p := range probes {
			var err error
			if buf, err = pub.publishProbe(ctx, buf, index, collection, p); err != nil {
				return err
			}
		}
		return nil
	}
	allLive := func() bool {
		for _, c := range subs {
			if c.notified.Load() == 0 {
				return false
			}
		}
		return true
	}
	if err := warmUp(ctx, clk, 5*time.Second, func(p []byte) error { return send([][]byte{p}) }, allLive); err != nil {
		return fail(fmt.Errorf("warm-up: %w", err))
	}
	meter := &cpuMeter{redis: redis.redis, nodes: nodes}
	var runs []LatencyRun
	for _, rate := range topo.Rates {
		errsBefore := pub.failures.Load()
		run := measureRate(ctx, cfg, clk, meter, &s, rate, len(subs), send)
		run.Workload, run.Nodes, run.PublishNode = base.Workload, base.Nodes, base.PublishNode
		run.SubscribeNodes, run.SubscribersPerNode = base.SubscribeNodes, base.SubscribersPerNode
		run.PublishErrors = pub.failures.Load() - errsBefore
		if run.PublishErrors > 0 && run.Error == "" {
			if e := pub.lastErr.Load(); e != nil {
				run.Error = "publish: " + *e
			}
		}
		runs = append(runs, run)
		if topo.Ladder && !sustained(run) {
			break
		}
	}
	return runs
}

// runFanout climbs the ladder of offered loads on one topology and reports
// the highest sustained rate.
func runFanout(ctx context.Context, cfg Config, clk clock, redis *cpuMeter, nodes []*nodeProc, topo realtimeTopology) FanoutRun {
	topo.Rates, topo.Ladder = cfg.Ladder, true
	f := FanoutRun{Workload: topo.Workload, Nodes: len(nodes), SubscribersPerNode: topo.Subscribers,
		Steps: runRealtime(ctx, cfg, clk, redis, nodes, topo)}
	for _, l := range f.Steps {
		if !sustained(l) {
			break
		}
		f.MaxSustainedRate = l.TargetRate
		f.MaxSustainedDeliveries = l.SentRate * float64(len(l.SubscribeNodes)*l.SubscribersPerNode)
	}
	if n := len(f.Steps); n > 0 && sustained(f.Steps[n-1]) && f.Steps[n-1].TargetRate == cfg.Ladder[len(cfg.Ladder)-1] {
		f.TopPassed = true
	}
	return f
}
