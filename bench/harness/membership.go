package harness

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// pollEvery is the status polling period of the membership workloads: it
// bounds their resolution.
const pollEvery = 10 * time.Millisecond

// runFailure starts n nodes, kill -9s the last one and measures, per
// survivor, the time until its status route no longer lists it.
func runFailure(ctx context.Context, cfg Config, base nodeSpec, n int) FailureRun {
	run := FailureRun{Nodes: n, HeartbeatMs: float64(cfg.Heartbeat) / 1e6, DetectMs: map[string]float64{}}
	nodes, err := startNodes(ctx, base, n, cfg.Timeout)
	if err != nil {
		run.Error = err.Error()
		return run
	}
	victim, survivors := nodes[n-1], nodes[:n-1]
	defer stopNodes(survivors)
	run.Killed = victim.spec.ID

	t0 := time.Now()
	victim.kill()
	deadline := t0.Add(cfg.Timeout)
	for len(run.DetectMs) < len(survivors) {
		if time.Now().After(deadline) {
			run.Error = fmt.Sprintf("%d of %d survivors still list %s after %s", len(survivors)-len(run.DetectMs), len(survivors), victim.spec.ID, cfg.Timeout)
			return run
		}
		for _, p := range survivors {
			if _, done := run.DetectMs[p.spec.ID]; done {
				continue
			}
			listed, err := p.lists(ctx, victim.spec.ID)
			if err == nil && !listed {
				d := time.Since(t0)
				run.DetectMs[p.spec.ID] = ms(d)
				run.MaxMs = max(run.MaxMs, ms(d))
			}
		}
		select {
		case <-ctx.Done():
			run.Error = ctx.Err().Error()
			return run
		case <-time.After(pollEvery):
		}
	}
	return run
}

// runJoin starts existing nodes, then one more, and measures the new node's
// time to ready and the time until every existing node lists it.
//
// Rooms is 0: a new node learns rooms through the cluster-wide registry of
// issue 6, which the binary does not serve yet. When it does, subscribe
// JoinRun.Rooms distinct filters on nodes[0] before starting the new node.
func runJoin(ctx context.Context, cfg Config, base nodeSpec, existing int) JoinRun {
	run := JoinRun{ExistingNodes: existing}
	nodes, err := startNodes(ctx, base, existing, cfg.Timeout)
	if err != nil {
		run.Error = err.Error()
		return run
	}
	defer func() { stopNodes(nodes) }()

	spec := base
	spec.ID = base.Prefix + "-join"
	p, err := startNode(spec)
	if err != nil {
		run.Error = err.Error()
		return run
	}
	nodes = append(nodes, p)
	t0 := p.started
	readyAt, listedBy := time.Duration(0), map[string]bool{}
	deadline := t0.Add(cfg.Timeout)
	for readyAt == 0 || len(listedBy) < existing {
		if time.Now().After(deadline) {
			run.Error = fmt.Sprintf("after %s: ready=%v, listed by %d of %d", cfg.Timeout, readyAt > 0, len(listedBy), existing)
			return run
		}
		if readyAt == 0 && p.ready(ctx) {
			readyAt = time.Since(t0)
		}
		for _, q := range nodes[:existing] {
			if listedBy[q.spec.ID] {
				continue
			}
			if ok, err := q.lists(ctx, spec.ID); err == nil && ok {
				listedBy[q.spec.ID] = true
				if len(listedBy) == existing {
					run.ListedMs = ms(time.Since(t0))
				}
			}
		}
		select {
		case <-ctx.Done():
			run.Error = ctx.Err().Error()
			return run
		case <-p.exited:
			run.Error = "new node exited (see " + spec.ID + ".log)"
			return run
		case <-time.After(pollEvery / 2):
		}
	}
	run.ReadyMs = ms(readyAt)
	return run
}

// phasePrefix returns a key prefix unique to one phase of this run (each run
// starts its own Redis Cluster), so phases never see each other's members.
func phasePrefix(phase string, i int) string {
	return "scb-" + phase + strconv.Itoa(i)
}
