package cluster_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/realtime/realtimetest"
	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
	"github.com/streamcluster/streamcluster/streams"
)

// TestFailoverKeepsSubscriptions fails over the control plane's master and
// then the subscriber's inbox master while writes keep flowing: afterwards
// the registries agree and writes through B still reach A's subscriber.
func TestFailoverKeepsSubscriptions(t *testing.T) {
	client := newClient(t)
	prefix := rediscluster.UniquePrefix(t)
	nodes := startNodes(t, client, prefix, "a", "b")
	a, b := nodes[0], nodes[1]
	onA := realtimetest.NewConn("a1")
	f := filter(t, "idx", "coll", `{"equals":{"k":1}}`)
	r := subscribe(t, a, onA, f).RoomID
	allSee(t, map[string]int{r: 1}, a, b)

	// Writes through B during the failovers (some may be lost: at most
	// once, counted as gaps).
	ctx, cancel := context.WithCancel(context.Background())
	var writes atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			rooms := b.reg.Match("idx", "coll", map[string]any{"k": 1}, "")
			if len(rooms) > 0 {
				m := mustMessage(t, "b", rooms)
				if b.router.Route(ctx, m) == nil {
					writes.Add(1)
				}
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	keys := streams.NewKeys(prefix)
	failover(t, keys.Control())
	failover(t, keys.Inbox("a"))
	cancel()
	<-done
	require.Positive(t, writes.Load())

	require.Eventually(t, func() bool { return a.n.Ready() && b.n.Ready() }, 15*time.Second, 10*time.Millisecond)
	allSee(t, map[string]int{r: 1}, a, b)
	before := onA.Len()
	require.Eventually(t, func() bool {
		write(t, b, "idx", "coll", map[string]any{"k": 1})
		return onA.Len() > before
	}, 15*time.Second, 50*time.Millisecond)
	t.Logf("writes during the failovers: %d, delivered: %d, inbox stats on A: %+v", writes.Load(), before, a.router.Stats())
}

// failover fails over key's master. A manual failover that Redis aborts
// (its replica could not catch up in time, for instance right after an
// earlier failover of the same shard) is retried.
func failover(t *testing.T, key string) {
	t.Helper()
	var err error
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err = testCluster.WaitHealthy(ctx); err == nil {
			_, err = testCluster.Failover(ctx, key)
		}
		cancel()
		if err == nil {
			return
		}
		t.Logf("failover of %q: %v; retrying", key, err)
	}
	require.NoError(t, err)
}
