package node_test

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/streamcluster/streamcluster/node"
	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
)

var testCluster *rediscluster.Cluster

func TestMain(m *testing.M) { os.Exit(rediscluster.RunTests(m, &testCluster)) }

// recorder collects what a node's extension hooks see.
type recorder struct {
	mu      sync.Mutex
	entries []node.Entry
	syncs   []node.Sync
}

func (r *recorder) handle(_ context.Context, e node.Entry) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries = append(r.entries, e)
	return nil
}

func (r *recorder) onSync(_ context.Context, s node.Sync) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.syncs = append(r.syncs, s)
}

func (r *recorder) snapshot() ([]node.Entry, []node.Sync) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]node.Entry(nil), r.entries...), append([]node.Sync(nil), r.syncs...)
}

func (r *recorder) hasSync(reason node.SyncReason) bool {
	_, syncs := r.snapshot()
	for _, s := range syncs {
		if s.Reason == reason {
			return true
		}
	}
	return false
}

type testNode struct {
	*node.Node
	rec  *recorder
	stop func()
}

// startNodes runs nodes with ids on one prefix until the test ends.
func startNodes(t *testing.T, client rueidis.Client, prefix string, ids ...string) []*testNode {
	t.Helper()
	return startNodesWith(t, client, node.Config{Prefix: prefix, Heartbeat: 100 * time.Millisecond}, ids...)
}

func startNodesWith(t *testing.T, client rueidis.Client, cfg node.Config, ids ...string) []*testNode {
	t.Helper()
	var out []*testNode
	for _, id := range ids {
		cfg.ID = id
		n, err := node.New(client, cfg)
		require.NoError(t, err)
		rec := &recorder{}
		require.NoError(t, n.Handle("Set", rec.handle))
		require.NoError(t, n.OnSync(rec.onSync))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- n.Run(ctx) }()
		var once sync.Once
		stop := func() {
			once.Do(func() {
				lctx, lcancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer lcancel()
				assert.NoError(t, n.Leave(lctx))
				cancel()
				assert.NoError(t, <-done)
			})
		}
		t.Cleanup(stop)
		out = append(out, &testNode{Node: n, rec: rec, stop: stop})
	}
	require.Eventually(t, func() bool {
		for _, n := range out {
			if !n.Ready() || len(n.Members(context.Background())) != len(ids) {
				return false
			}
		}
		return true
	}, 5*time.Second, 10*time.Millisecond)
	return out
}

func newClient(t *testing.T) rueidis.Client {
	client, err := testCluster.Client()
	require.NoError(t, err)
	t.Cleanup(client.Close)
	return client
}

func TestMutationIsFencedAndReplicated(t *testing.T) {
	// Registered first, so it runs after every other cleanup (client closed,
	// nodes stopped). rueidis' topology refresher may sleep on after Close.
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		goleak.VerifyNone(t, ignore, goleak.IgnoreAnyFunction("github.com/redis/rueidis.(*clusterClient)._refresh.func2"))
	})
	client := newClient(t)
	prefix := rediscluster.UniquePrefix(t)
	nodes := startNodes(t, client, prefix, "a", "b")
	a, b := nodes[0], nodes[1]
	for _, n := range nodes {
		assert.True(t, n.rec.hasSync(node.SyncJoin))
	}

	keys := node.Keys{Prefix: prefix}
	kv := keys.Tag() + ":kv"
	set := node.NewMutation(`
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return append('Set', ARGV[1] .. '=' .. ARGV[2])`)
	ctx := context.Background()
	res, err := a.Mutate(ctx, set, []string{kv}, []string{"x", "1"})
	require.NoError(t, err)
	seq, err := res.AsInt64()
	require.NoError(t, err)
	v, err := client.Do(ctx, client.B().Hget().Key(kv).Field("x").Build()).ToString()
	require.NoError(t, err)
	assert.Equal(t, "1", v)

	// Both nodes apply the entry, with its sequence number and sender.
	for _, n := range nodes {
		require.Eventually(t, func() bool {
			entries, _ := n.rec.snapshot()
			return len(entries) == 1
		}, 2*time.Second, 5*time.Millisecond)
		entries, _ := n.rec.snapshot()
		assert.Equal(t, node.Entry{ID: entries[0].ID, Seq: seq, Type: "Set", Node: "a", Incarnation: entries[0].Incarnation, Data: []byte("x=1")}, entries[0])
	}

	_, err = a.Mutate(ctx, set, []string{"elsewhere"}, []string{"x", "1"})
	assert.ErrorIs(t, err, node.ErrCrossSlot)

	// Another incarnation of "b" registered behind b's back: b is fenced,
	// its mutation is refused and writes nothing.
	require.NoError(t, client.Do(ctx, client.B().Hset().Key(keys.Members()).FieldValue().FieldValue("b", "999999").Build()).Error())
	_, err = b.Mutate(ctx, set, []string{kv}, []string{"y", "2"})
	assert.ErrorIs(t, err, node.ErrFenced)
	exists, err := client.Do(ctx, client.B().Hexists().Key(kv).Field("y").Build()).AsBool()
	require.NoError(t, err)
	assert.False(t, exists, "a fenced mutation wrote nothing")

	// b notices, rejoins with a new incarnation and can write again.
	require.Eventually(t, func() bool { return b.rec.hasSync(node.SyncRejoin) && b.Ready() }, 3*time.Second, 5*time.Millisecond)
	_, err = b.Mutate(ctx, set, []string{kv}, []string{"y", "2"})
	require.NoError(t, err)

	a.stop()
	b.stop()
}

func TestSequenceGapResyncs(t *testing.T) {
	client := newClient(t)
	prefix := rediscluster.UniquePrefix(t)
	nodes := startNodes(t, client, prefix, "a", "b")

	// A sequence number that never reaches the stream (as after a failover
	// that lost an acknowledged write): every node must resync.
	ctx := context.Background()
	require.NoError(t, client.Do(ctx, client.B().Incr().Key(node.Keys{Prefix: prefix}.Seq()).Build()).Error())
	for _, n := range nodes {
		require.Eventually(t, func() bool { return n.rec.hasSync(node.SyncResync) }, 3*time.Second, 5*time.Millisecond, "node %s", n.ID())
	}
	require.Eventually(t, func() bool {
		for _, n := range nodes {
			if !n.Ready() || len(n.Members(ctx)) != 2 {
				return false
			}
		}
		return true
	}, 3*time.Second, 10*time.Millisecond)
	for _, n := range nodes {
		assert.False(t, n.rec.hasSync(node.SyncRejoin), "a gap resyncs, it does not rejoin")
	}
}

func TestRunTwiceAndLeaveIdempotent(t *testing.T) {
	client := newClient(t)
	prefix := rediscluster.UniquePrefix(t)
	n := startNodes(t, client, prefix, "solo")[0]
	assert.ErrorIs(t, n.Run(context.Background()), node.ErrRunning)
	assert.ErrorIs(t, n.Handle("X", nil), node.ErrRunning)
	n.stop()
	assert.NoError(t, n.Leave(context.Background()))
	assert.False(t, n.Ready())
	members, err := client.Do(context.Background(), client.B().Hlen().Key(node.Keys{Prefix: prefix}.Members()).Build()).AsInt64()
	require.NoError(t, err)
	assert.Zero(t, members)
}

func TestWaitReplicas(t *testing.T) {
	client := newClient(t)
	prefix := rediscluster.UniquePrefix(t)
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	nodes := startNodesWith(t, client, node.Config{Prefix: prefix, Heartbeat: 100 * time.Millisecond, WaitReplicas: 1, Logger: logger}, "a", "b")
	set := node.NewMutation(`return append('Set', ARGV[1])`)
	res, err := nodes[0].Mutate(context.Background(), set, nil, []string{"v"})
	require.NoError(t, err)
	seq, err := res.AsInt64()
	require.NoError(t, err)
	for _, n := range nodes {
		require.Eventually(t, func() bool {
			entries, _ := n.rec.snapshot()
			return len(entries) == 1 && entries[0].Seq == seq
		}, 2*time.Second, 5*time.Millisecond)
	}
	nodes[1].stop()
	require.Eventually(t, func() bool { return len(nodes[0].Members(context.Background())) == 1 }, 2*time.Second, 5*time.Millisecond)
	if testCluster.IsCluster() {
		// Joins, the mutation and the leave were all acknowledged by a replica.
		assert.NotContains(t, logs.String(), "not acknowledged")
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
