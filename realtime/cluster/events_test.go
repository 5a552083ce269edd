package cluster_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/realtime/cluster"
	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
)

type received struct {
	mu  sync.Mutex
	got []string // "sender:payload"
}

func (r *received) add(sender string, payload []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, sender+":"+string(payload))
}

func (r *received) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// TestEventsReachEveryNode checks Broadcast/On: an event reaches every
// node, the sender included, in order, and only the handlers of its name.
func TestEventsReachEveryNode(t *testing.T) {
	client := newClient(t)
	prefix := rediscluster.UniquePrefix(t)
	nodes := startNodes(t, client, prefix, "a", "b")
	recv := make([]*received, len(nodes))
	other := &received{}
	for i, tn := range nodes {
		recv[i] = &received{}
		tn.events.On("greet", recv[i].add)
		tn.events.On("other", other.add)
	}
	ctx := context.Background()
	require.NoError(t, nodes[0].events.Broadcast(ctx, "greet", []byte("one")))
	require.NoError(t, nodes[1].events.Broadcast(ctx, "greet", []byte("two")))
	want := []string{"a:one", "b:two"}
	for i := range nodes {
		require.Eventually(t, func() bool { return len(recv[i].all()) == 2 }, 5*time.Second, 5*time.Millisecond)
		assert.Equal(t, want, recv[i].all(), "node %d", i)
	}
	assert.Empty(t, other.all())
	require.ErrorIs(t, nodes[0].events.Broadcast(ctx, "", nil), cluster.ErrEventName)
}
