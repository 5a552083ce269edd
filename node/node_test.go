package node_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/streamcluster/streamcluster/node"
	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
	"github.com/streamcluster/streamcluster/streams"
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

	keys := streams.NewKeys(prefix)
	kv := keys.Tag() + ":kv"
	set := node.NewMutation(`
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return append(1)`)
	setEntry := func(k, v string) node.Append { return node.Append{Type: "Set", Data: []byte(k + "=" + v)} }
	ctx := context.Background()
	res, err := a.Mutate(ctx, set, []string{kv}, []string{"x", "1"}, setEntry("x", "1"))
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

	_, err = a.Mutate(ctx, set, []string{"elsewhere"}, []string{"x", "1"}, setEntry("x", "1"))
	assert.ErrorIs(t, err, node.ErrCrossSlot)

	// Another incarnation of "b" registered behind b's back: b is fenced,
	// its mutation is refused and writes nothing.
	require.NoError(t, client.Do(ctx, client.B().Hset().Key(keys.Members()).FieldValue().FieldValue("b", "999999").Build()).Error())
	_, err = b.Mutate(ctx, set, []string{kv}, []string{"y", "2"}, setEntry("y", "2"))
	assert.ErrorIs(t, err, node.ErrFenced)
	exists, err := client.Do(ctx, client.B().Hexists().Key(kv).Field("y").Build()).AsBool()
	require.NoError(t, err)
	assert.False(t, exists, "a fenced mutation wrote nothing")

	// b notices, rejoins with a new incarnation and can write again.
	require.Eventually(t, func() bool { return b.rec.hasSync(node.SyncRejoin) && b.Ready() }, 3*time.Second, 5*time.Millisecond)
	_, err = b.Mutate(ctx, set, []string{kv}, []string{"y", "2"}, setEntry("y", "2"))
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
	require.NoError(t, client.Do(ctx, client.B().Incr().Key(streams.NewKeys(prefix).Seq()).Build()).Error())
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
	members, err := client.Do(context.Background(), client.B().Hlen().Key(streams.NewKeys(prefix).Members()).Build()).AsInt64()
	require.NoError(t, err)
	assert.Zero(t, members)
}

func TestWaitReplicas(t *testing.T) {
	client := newClient(t)
	prefix := rediscluster.UniquePrefix(t)
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	nodes := startNodesWith(t, client, node.Config{Prefix: prefix, Heartbeat: 100 * time.Millisecond, WaitReplicas: 1, Logger: logger}, "a", "b")
	set := node.NewMutation(`return append(1)`)
	res, err := nodes[0].Mutate(context.Background(), set, nil, nil, node.Append{Type: "Set", Data: []byte("v")})
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

func TestRejectedControlEntriesAreSkipped(t *testing.T) {
	client := newClient(t)
	prefix := rediscluster.UniquePrefix(t)
	secret := []byte("0123456789abcdef-shared")
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	reg := prometheus.NewRegistry()
	nodes := startNodesWith(t, client, node.Config{
		Prefix: prefix, Heartbeat: 100 * time.Millisecond, Secret: secret, Logger: logger, Registerer: reg,
	}, "a", "b")
	a, b := nodes[0], nodes[1]
	ctx := context.Background()
	keys := streams.NewKeys(prefix)
	bInc := a.Members(ctx)[1].Incarnation

	xadd := func(fields ...string) {
		t.Helper()
		cmd := client.B().Xadd().Key(keys.Control()).Id("*").FieldValue()
		for i := 0; i < len(fields); i += 2 {
			cmd = cmd.FieldValue(fields[i], fields[i+1])
		}
		require.NoError(t, client.Do(ctx, cmd.Build()).Error())
	}
	// nextSeq is the sequence number the next valid entry will get: the
	// forged entries claim it, so a node that trusted their "q" would see
	// the valid entry as a gap or a duplicate.
	nextSeq := func() string {
		t.Helper()
		n, err := client.Do(ctx, client.B().Get().Key(keys.Seq()).Build()).AsInt64()
		require.NoError(t, err)
		return strconv.FormatInt(n+1, 10)
	}
	forge := func(codec *streams.Codec, e streams.Envelope) []string {
		t.Helper()
		f, err := codec.EncodeControl(e)
		require.NoError(t, err)
		return append([]string{streams.FieldSeq, nextSeq()}, f.Args()...)
	}

	// Malformed: random fields, an unknown field next to "e", the old raw
	// t/s/n/i/d layout.
	xadd("foo", "bar")
	xadd("e", "\x01\x01garbage", "q", nextSeq(), "t", "NodeJoined")
	xadd("t", "NodeJoined", "s", nextSeq(), "n", "intruder", "i", "1", "d", "{}")
	// Unsigned: a well-formed "Set" from a without a signature.
	xadd(forge(streams.NewCodec(nil), streams.Envelope{Type: "Set", Sender: "a", Incarnation: 1, Payload: []byte("forged=1")})...)
	// Badly signed: b's eviction, signed with another secret.
	evict, err := json.Marshal(map[string]string{"id": "b", "incarnation": strconv.FormatUint(bInc, 10), "reason": "forged"})
	require.NoError(t, err)
	xadd(forge(streams.NewCodec([]byte("not-the-cluster-secret")), streams.Envelope{Type: node.TypeNodeEvicted, Sender: "a", Incarnation: 1, Payload: evict})...)

	// A valid entry behind them is applied by both nodes, with the next
	// sequence number: nothing was resynced, nobody was fenced.
	set := node.NewMutation(`return append(1)`)
	res, err := a.Mutate(ctx, set, nil, nil, node.Append{Type: "Set", Data: []byte("x=1")})
	require.NoError(t, err)
	seq, err := res.AsInt64()
	require.NoError(t, err)
	for _, n := range nodes {
		require.Eventually(t, func() bool {
			entries, _ := n.rec.snapshot()
			return len(entries) == 1
		}, 3*time.Second, 5*time.Millisecond, "node %s", n.ID())
		entries, _ := n.rec.snapshot()
		assert.Equal(t, node.Entry{ID: entries[0].ID, Seq: seq, Type: "Set", Node: "a", Incarnation: entries[0].Incarnation, Data: []byte("x=1")}, entries[0])
		assert.Equal(t, streams.RejectStats{Malformed: 3, Unsigned: 1, BadSignature: 1}, n.Rejected(), "node %s", n.ID())
		assert.True(t, n.Ready(), "node %s", n.ID())
		assert.Len(t, n.Members(ctx), 2, "node %s: the forged eviction of b was not applied", n.ID())
		assert.False(t, n.rec.hasSync(node.SyncResync), "node %s: rejected entries do not touch the sequence", n.ID())
		assert.False(t, n.rec.hasSync(node.SyncRejoin), "node %s", n.ID())
	}
	assert.Equal(t, bInc, b.Members(ctx)[0].Incarnation, "b kept its incarnation")
	assert.Contains(t, logs.String(), "control entry rejected and skipped")

	// The counters are exported per node and reason.
	families, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "streamcluster_control_rejected_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			got[labels["node"]+"/"+labels["reason"]] = m.GetCounter().GetValue()
		}
	}
	for _, id := range []string{"a", "b"} {
		assert.Equal(t, 3.0, got[id+"/malformed"], id)
		assert.Equal(t, 1.0, got[id+"/unsigned"], id)
		assert.Equal(t, 1.0, got[id+"/bad_signature"], id)
		assert.Equal(t, 0.0, got[id+"/unknown_version"], id)
	}

	// A forged entry appended through the append script (a writer with
	// Redis access but not the secret) burns a real sequence number: the
	// nodes skip it, see the gap at the next valid entry and resync from
	// the snapshot, staying members and ready.
	forger := streams.NewAppender(client, streams.NewCodec(nil), streams.Config{Prefix: prefix})
	_, _, err = forger.AppendControl(ctx, streams.Envelope{Type: "Set", Sender: "a", Incarnation: 1, Payload: []byte("forged=2")})
	require.NoError(t, err)
	_, err = b.Mutate(ctx, set, nil, nil, node.Append{Type: "Set", Data: []byte("y=2")})
	require.NoError(t, err)
	for _, n := range nodes {
		require.Eventually(t, func() bool { return n.rec.hasSync(node.SyncResync) && n.Ready() }, 3*time.Second, 5*time.Millisecond, "node %s", n.ID())
		assert.Equal(t, uint64(2), n.Rejected().Unsigned, "node %s", n.ID())
		assert.False(t, n.rec.hasSync(node.SyncRejoin), "node %s", n.ID())
		assert.Len(t, n.Members(ctx), 2, "node %s", n.ID())
		entries, _ := n.rec.snapshot()
		for _, e := range entries {
			assert.NotContains(t, string(e.Data), "forged", "node %s", n.ID())
		}
	}
}

func TestJoinRefusedWithAnotherSecret(t *testing.T) {
	client := newClient(t)
	prefix := rediscluster.UniquePrefix(t)
	cfg := node.Config{Prefix: prefix, Heartbeat: 100 * time.Millisecond, Secret: []byte("0123456789abcdef-one")}
	a := startNodesWith(t, client, cfg, "a")[0]

	for name, secret := range map[string][]byte{"another secret": []byte("0123456789abcdef-two"), "no secret": nil} {
		n, err := node.New(client, node.Config{ID: "b", Prefix: prefix, Heartbeat: 100 * time.Millisecond, Secret: secret,
			RetryJoin: 1, JoinAttemptInterval: time.Millisecond})
		require.NoError(t, err)
		err = n.Run(context.Background())
		assert.ErrorIs(t, err, node.ErrJoinFailed, name)
		assert.ErrorIs(t, err, node.ErrSecretMismatch, name)
		members, err := client.Do(context.Background(), client.B().Hexists().Key(streams.NewKeys(prefix).Members()).Field("b").Build()).AsBool()
		require.NoError(t, err)
		assert.False(t, members, "%s: b was not registered", name)
	}

	// The same secret joins.
	cfg.ID = "c"
	c, err := node.New(client, cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	require.Eventually(t, func() bool { return c.Ready() && len(a.Members(ctx)) == 2 }, 3*time.Second, 5*time.Millisecond)
	require.NoError(t, c.Leave(context.Background()))
	cancel()
	require.NoError(t, <-done)
}
