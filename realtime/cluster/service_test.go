package cluster_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/realtime"
	"github.com/streamcluster/streamcluster/realtime/realtimetest"
	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
)

// TestServiceAcrossNodes runs realtime.Service on the cluster registry and
// router: user notifications, publish, count and list across nodes.
func TestServiceAcrossNodes(t *testing.T) {
	client := newClient(t)
	prefix := rediscluster.UniquePrefix(t)
	nodes := startNodes(t, client, prefix, "a", "b", "c")
	svc := make([]*realtime.Service, len(nodes))
	for i, tn := range nodes {
		svc[i] = realtime.NewService(realtime.ServiceConfig{NodeID: tn.n.ID()}, tn.hub, tn.reg, tn.router,
			realtime.NewRedisOutState(client, prefix, time.Minute))
	}
	ctx := context.Background()
	f := filter(t, "idx", "coll", `{"equals":{"topic":"news"}}`)
	o := realtime.Origin{Controller: "realtime", Action: "subscribe", Protocol: "websocket", Index: "idx", Collection: "coll"}

	// A subscriber on B that wants user notifications, then one on A: B's
	// connection is told of A's arrival through B's inbox.
	onB := realtimetest.NewConn("conn-b")
	_, err := svc[1].Subscribe(ctx, onB, f, realtime.Options{Users: "all"}, o)
	require.NoError(t, err)
	onA := realtimetest.NewConn("conn-a")
	sub, err := svc[0].Subscribe(ctx, onA, f, realtime.Options{}, o)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return onB.Len() == 1 }, 5*time.Second, 5*time.Millisecond)
	in := onB.All()[0]
	assert.Equal(t, "user", in["type"])
	assert.Equal(t, "in", in["user"])
	assert.Equal(t, "a", in["node"])

	// count and list on C are the cluster's.
	require.Eventually(t, func() bool { n, ok := svc[2].Count(sub.RoomID); return ok && n == 2 }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, map[string]map[string]map[string]int{"idx": {"coll": {sub.RoomID: 2}}}, svc[2].List())
	assert.True(t, svc[2].RoomExists(sub.RoomID))

	// A publish through C reaches both; one that does not match, nobody.
	po := realtime.Origin{Controller: "realtime", Action: "publish", Protocol: "http", Index: "idx", Collection: "coll", Volatile: json.RawMessage(`{"v":1}`)}
	require.NoError(t, svc[2].Publish(ctx, po, "", map[string]any{"topic": "sport"}, json.RawMessage(`{"_source":{"topic":"sport"}}`)))
	require.NoError(t, svc[2].Publish(ctx, po, "", map[string]any{"topic": "news"}, json.RawMessage(`{"_source":{"topic":"news"}}`)))
	require.Eventually(t, func() bool { return onA.Len() == 1 && onB.Len() == 2 }, 5*time.Second, 5*time.Millisecond)
	doc := onA.All()[0]
	assert.Equal(t, "document", doc["type"])
	assert.Equal(t, "publish", doc["action"])
	assert.Equal(t, map[string]any{"v": float64(1)}, doc["volatile"])
	assert.Equal(t, "news", doc["result"].(map[string]any)["_source"].(map[string]any)["topic"])
	assert.Equal(t, 2, onB.Len())

	// A's connection closes: B's is told through its inbox, counts drop
	// everywhere.
	require.NoError(t, svc[0].RemoveConn(ctx, "conn-a", "websocket"))
	require.Eventually(t, func() bool { return onB.Len() == 3 }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, "out", onB.All()[2]["user"])
	allSee(t, map[string]int{sub.RoomID: 1}, nodes...)
}

// TestUserNotificationsCarryOriginCount pins Kuzzle's behaviour: a user
// notification carries the room's subscriber count on the node where the
// user came or went, not the cluster's (reference/kuzzle-api-and-cluster.md
// "User notification on subscribe": <local room size>;
// reference/kuzzle-plugin-cluster.md cluster:notify:user).
func TestUserNotificationsCarryOriginCount(t *testing.T) {
	client := newClient(t)
	prefix := rediscluster.UniquePrefix(t)
	nodes := startNodes(t, client, prefix, "a", "b")
	svc := make([]*realtime.Service, len(nodes))
	for i, tn := range nodes {
		svc[i] = realtime.NewService(realtime.ServiceConfig{NodeID: tn.n.ID()}, tn.hub, tn.reg, tn.router,
			realtime.NewRedisOutState(client, prefix, time.Minute))
	}
	ctx := context.Background()
	f := filter(t, "idx", "coll", `{"equals":{"topic":"count"}}`)
	o := realtime.Origin{Controller: "realtime", Action: "subscribe", Protocol: "websocket", Index: "idx", Collection: "coll"}
	count := func(m map[string]any) any { return m["result"].(map[string]any)["count"] }

	// Two subscribers on B, one wanting user notifications; A must know
	// them before its own subscriber arrives.
	watcher := realtimetest.NewConn("b-watcher")
	sub, err := svc[1].Subscribe(ctx, watcher, f, realtime.Options{Users: "all"}, o)
	require.NoError(t, err)
	_, err = svc[1].Subscribe(ctx, realtimetest.NewConn("b-other"), f, realtime.Options{}, o)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return watcher.Len() == 1 }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, float64(2), count(watcher.All()[0]))
	require.Eventually(t, func() bool { n, ok := svc[0].Count(sub.RoomID); return ok && n == 2 }, 5*time.Second, 5*time.Millisecond)

	// A's subscriber: A has one local subscriber (the cluster three).
	_, err = svc[0].Subscribe(ctx, realtimetest.NewConn("a-1"), f, realtime.Options{}, o)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return watcher.Len() == 2 }, 5*time.Second, 5*time.Millisecond)
	in := watcher.All()[1]
	assert.Equal(t, "in", in["user"])
	assert.Equal(t, "a", in["node"])
	assert.Equal(t, float64(1), count(in))

	// A's subscriber leaves: A has none left (the cluster two).
	require.NoError(t, svc[0].Unsubscribe(ctx, "a-1", sub.RoomID, "websocket"))
	require.Eventually(t, func() bool { return watcher.Len() == 3 }, 5*time.Second, 5*time.Millisecond)
	out := watcher.All()[2]
	assert.Equal(t, "out", out["user"])
	assert.Equal(t, float64(0), count(out))
	n, ok := svc[0].Count(sub.RoomID)
	assert.True(t, ok)
	assert.Equal(t, 2, n, "realtime:count stays cluster-wide")
}

// TestJoinWaitsForMissingRoom checks realtime:join on a node that has not
// seen yet a room created on another: it retries once after
// WaitForMissingRooms, then answers ErrRoomNotFound.
func TestJoinWaitsForMissingRoom(t *testing.T) {
	client := newClient(t)
	prefix := rediscluster.UniquePrefix(t)
	nodes := startNodes(t, client, prefix, "a", "b")
	const wait = 2 * time.Second
	svc := make([]*realtime.Service, len(nodes))
	for i, tn := range nodes {
		svc[i] = realtime.NewService(realtime.ServiceConfig{NodeID: tn.n.ID(), WaitForMissingRooms: wait}, tn.hub, tn.reg, tn.router,
			realtime.NewRedisOutState(client, prefix, time.Minute))
	}
	ctx := context.Background()
	f := filter(t, "idx", "coll", `{"equals":{"topic":"late"}}`)
	o := realtime.Origin{Controller: "realtime", Action: "subscribe", Protocol: "websocket", Index: "idx", Collection: "coll"}

	// B's join starts before A creates the room.
	type result struct {
		sub realtime.Subscription
		err error
	}
	joined := make(chan result, 1)
	onB := realtimetest.NewConn("b-joiner")
	go func() {
		sub, err := svc[1].Join(ctx, onB, f.RoomID(), realtime.Options{}, o)
		joined <- result{sub, err}
	}()
	_, err := svc[0].Subscribe(ctx, realtimetest.NewConn("a-1"), f, realtime.Options{}, o)
	require.NoError(t, err)
	r := <-joined
	require.NoError(t, r.err)
	assert.Equal(t, f.RoomID(), r.sub.RoomID)
	require.Eventually(t, func() bool { n, ok := svc[0].Count(f.RoomID()); return ok && n == 2 }, 5*time.Second, 5*time.Millisecond)

	// A room nobody creates: not found, after the wait.
	start := time.Now()
	_, err = svc[1].Join(ctx, realtimetest.NewConn("b-2"), "no-such-room", realtime.Options{}, o)
	require.ErrorIs(t, err, realtime.ErrRoomNotFound)
	assert.GreaterOrEqual(t, time.Since(start), wait)

	// A cancelled context ends the wait.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = svc[1].Join(cctx, realtimetest.NewConn("b-3"), "no-such-room", realtime.Options{}, o)
	require.ErrorIs(t, err, context.Canceled)
}
