package harness

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// agreePoll is the polling period of the churn probe: it bounds the
// resolution of the agreement times.
const agreePoll = 2 * time.Millisecond

// runChurn runs cfg.ChurnClients subscribe→unsubscribe loops per node for
// cfg.Duration (workload 4) and, meanwhile, a probe that subscribes a fresh
// room on node 0 and measures how long every node takes to agree on
// realtime:count, then the same for its unsubscribe.
func runChurn(ctx context.Context, cfg Config, nodes []*nodeProc) ChurnRun {
	run := ChurnRun{Nodes: len(nodes), ClientsPerNode: cfg.ChurnClients}
	collection := "ch" + strconv.FormatInt(time.Now().UnixNano(), 36)
	set := &wsClientSet{}
	defer set.close()
	var churners []*wsClient
	for _, p := range nodes {
		for range cfg.ChurnClients {
			c, err := dialWS(ctx, p.addr, nil)
			if err != nil {
				run.Error = err.Error()
				return run
			}
			set.clients = append(set.clients, c)
			churners = append(churners, c)
		}
	}
	var observers []*wsClient // one per node, for realtime:count
	for _, p := range nodes {
		c, err := dialWS(ctx, p.addr, nil)
		if err != nil {
			run.Error = err.Error()
			return run
		}
		set.clients = append(set.clients, c)
		observers = append(observers, c)
	}

	wctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var ops, errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i, c := range churners {
		wg.Add(1)
		go func() { // owner: runChurn, which waits below
			defer wg.Done()
			for k := 0; wctx.Err() == nil; k++ {
				// ctx, not wctx: a subscribe cut off by the window's end
				// could still register a room nobody unsubscribes.
				id, err := c.subscribeRoom(ctx, collection, "c"+strconv.Itoa(i)+"-"+strconv.Itoa(k))
				if err != nil {
					errs.Add(1)
					continue
				}
				ops.Add(1)
				// Unsubscribe even after the window so no room is left.
				if err := c.unsubscribe(ctx, id); err != nil {
					errs.Add(1)
					continue
				}
				ops.Add(1)
			}
		}()
	}

	var subAgree, unsubAgree []time.Duration
	probeErr := func() error {
		for k := 0; wctx.Err() == nil; k++ {
			id, err := observers[0].subscribeRoom(ctx, collection+"p", "p"+strconv.Itoa(k))
			if err != nil {
				return err
			}
			t0 := time.Now()
			if err := waitCounts(ctx, observers, id, 1, cfg.Timeout); err != nil {
				return fmt.Errorf("subscribe: %w", err)
			}
			subAgree = append(subAgree, time.Since(t0))
			if err := observers[0].unsubscribe(ctx, id); err != nil {
				return err
			}
			t0 = time.Now()
			if err := waitCounts(ctx, observers, id, 0, cfg.Timeout); err != nil {
				return fmt.Errorf("unsubscribe: %w", err)
			}
			unsubAgree = append(unsubAgree, time.Since(t0))
		}
		return nil
	}()
	wg.Wait()
	elapsed := time.Since(start)
	run.Ops, run.Errors = ops.Load(), errs.Load()
	run.OpsPerSecond = float64(run.Ops) / elapsed.Seconds()
	run.SubscribeAgree, run.UnsubscribeAgree = Summarize(subAgree), Summarize(unsubAgree)
	if probeErr != nil {
		run.Error = "probe: " + probeErr.Error()
		return run
	}

	t0 := time.Now()
	for _, p := range nodes {
		if err := waitRooms(ctx, p, collection, 0, cfg.Timeout); err != nil {
			run.Error = "quiesce: " + err.Error()
			return run
		}
	}
	run.QuiesceMs = ms(time.Since(t0))
	return run
}

// waitCounts polls realtime:count of roomID on every observer until it is
// want (0 also accepts an unknown room).
func waitCounts(ctx context.Context, observers []*wsClient, roomID string, want int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	done := make([]bool, len(observers))
	left := len(observers)
	for left > 0 {
		for i, c := range observers {
			if done[i] {
				continue
			}
			n, ok, err := c.roomCount(ctx, roomID)
			if err != nil {
				return err
			}
			if n == want && (ok || want == 0) {
				done[i] = true
				left--
			}
		}
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d nodes disagree on room %s after %s", left, len(observers), roomID, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(agreePoll):
		}
	}
	return nil
}
