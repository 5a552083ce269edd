package api

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/koncorde"
	"github.com/streamcluster/streamcluster/realtime"
	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
)

func setupCollection(t *testing.T, ws *wsClient, index, coll string) {
	t.Helper()
	ws.ok(map[string]any{"controller": "index", "action": "create", "index": index})
	ws.ok(map[string]any{"controller": "collection", "action": "create", "index": index, "collection": coll})
}

func TestDocumentNotifications(t *testing.T) {
	n := newTestNode(t, rediscluster.UniquePrefix(t), nil)
	sub := dialWS(t, n, "/")
	writer := dialWS(t, n, "/")
	setupCollection(t, writer, "nyc", "taxi")

	res := sub.ok(map[string]any{"controller": "realtime", "action": "subscribe", "index": "nyc", "collection": "taxi",
		"body": map[string]any{"equals": map[string]any{"license": "B"}}}).(map[string]any)
	roomID := res["roomId"].(string)
	require.Len(t, roomID, 64)
	require.Equal(t, roomID+"-311", res["channel"])

	vol := map[string]any{"sdkInstanceId": "w1"}
	created := writer.ok(map[string]any{"controller": "document", "action": "create", "index": "nyc", "collection": "taxi",
		"_id": nil, "body": map[string]any{"name": "Sirkis", "license": "B"}, "volatile": vol}).(map[string]any)
	id := created["_id"].(string)
	require.NotEmpty(t, id)

	m := sub.next()
	require.Equal(t, "document", m["type"])
	require.Equal(t, "in", m["scope"])
	require.Equal(t, "create", m["action"])
	require.Equal(t, "write", m["event"])
	require.Equal(t, res["channel"], m["room"])
	require.Equal(t, "nyc", m["index"])
	require.Equal(t, "taxi", m["collection"])
	require.Equal(t, "document", m["controller"])
	require.Equal(t, "websocket", m["protocol"])
	require.Equal(t, map[string]any{"sdkInstanceId": "w1"}, m["volatile"])
	require.EqualValues(t, 200, m["status"])
	result := m["result"].(map[string]any)
	require.Equal(t, id, result["_id"])
	require.EqualValues(t, 1, result["_version"])
	require.Equal(t, "Sirkis", result["_source"].(map[string]any)["name"])

	// Not matching: no notification.
	writer.ok(map[string]any{"controller": "document", "action": "create", "index": "nyc", "collection": "taxi", "body": map[string]any{"license": "A"}})
	sub.noMessage()

	// Silent writes send nothing.
	writer.ok(map[string]any{"controller": "document", "action": "create", "index": "nyc", "collection": "taxi", "body": map[string]any{"license": "B"}, "silent": true})
	sub.noMessage()

	// Update that stays in scope, then one that leaves it.
	writer.ok(map[string]any{"controller": "document", "action": "update", "index": "nyc", "collection": "taxi", "_id": id, "body": map[string]any{"name": "Ned"}})
	m = sub.next()
	require.Equal(t, "in", m["scope"])
	require.Equal(t, "update", m["action"])
	require.Equal(t, []any{"name"}, m["result"].(map[string]any)["_updatedFields"])
	writer.ok(map[string]any{"controller": "document", "action": "update", "index": "nyc", "collection": "taxi", "_id": id, "body": map[string]any{"license": "C"}})
	m = sub.next()
	require.Equal(t, "out", m["scope"])
	require.Equal(t, "update", m["action"])
	// Out of scope and still not matching: nothing.
	writer.ok(map[string]any{"controller": "document", "action": "update", "index": "nyc", "collection": "taxi", "_id": id, "body": map[string]any{"license": "D"}})
	sub.noMessage()
	// Replace back into scope, then delete.
	writer.ok(map[string]any{"controller": "document", "action": "replace", "index": "nyc", "collection": "taxi", "_id": id, "body": map[string]any{"license": "B"}})
	m = sub.next()
	require.Equal(t, "in", m["scope"])
	require.Equal(t, "replace", m["action"])
	writer.ok(map[string]any{"controller": "document", "action": "delete", "index": "nyc", "collection": "taxi", "_id": id})
	m = sub.next()
	require.Equal(t, "out", m["scope"])
	require.Equal(t, "delete", m["action"])
	require.Equal(t, "delete", m["event"])

	// Publish.
	writer.ok(map[string]any{"controller": "realtime", "action": "publish", "index": "nyc", "collection": "taxi", "body": map[string]any{"license": "B"}})
	m = sub.next()
	require.Equal(t, "publish", m["action"])
	require.Equal(t, "publish", m["event"])
	require.Equal(t, "in", m["scope"])
	src := m["result"].(map[string]any)["_source"].(map[string]any)
	require.Equal(t, "-1", src["_kuzzle_info"].(map[string]any)["author"])

	// Bulk writes notify each document.
	writer.ok(map[string]any{"controller": "document", "action": "mCreate", "index": "nyc", "collection": "taxi", "body": map[string]any{
		"documents": []any{map[string]any{"body": map[string]any{"license": "B"}}, map[string]any{"body": map[string]any{"license": "Z"}}, map[string]any{"_id": "m3", "body": map[string]any{"license": "B"}}}}})
	require.Equal(t, "create", sub.next()["action"])
	require.Equal(t, "create", sub.next()["action"])
	sub.noMessage()

	// Count, list, unsubscribe.
	require.Equal(t, map[string]any{"count": float64(1)}, writer.ok(map[string]any{"controller": "realtime", "action": "count", "body": map[string]any{"roomId": roomID}}))
	list := writer.ok(map[string]any{"controller": "realtime", "action": "list"}).(map[string]any)
	require.Equal(t, map[string]any{"taxi": map[string]any{roomID: float64(1)}}, list["nyc"])
	sub.ok(map[string]any{"controller": "realtime", "action": "unsubscribe", "body": map[string]any{"roomId": roomID}})
	writer.ok(map[string]any{"controller": "document", "action": "create", "index": "nyc", "collection": "taxi", "body": map[string]any{"license": "B"}})
	sub.noMessage()
	resp, _ := writer.query(map[string]any{"controller": "realtime", "action": "count", "body": map[string]any{"roomId": roomID}})
	require.Equal(t, "core.realtime.room_not_found", errID(resp))
}

func TestNotificationBeforeResponse(t *testing.T) {
	n := newTestNode(t, rediscluster.UniquePrefix(t), nil)
	ws := dialWS(t, n, "/")
	setupCollection(t, ws, "i", "c")
	ws.ok(map[string]any{"controller": "realtime", "action": "subscribe", "index": "i", "collection": "c", "body": map[string]any{}})
	resp, before := ws.query(map[string]any{"controller": "document", "action": "create", "index": "i", "collection": "c", "body": map[string]any{"a": 1}})
	require.Nil(t, resp["error"])
	require.Len(t, before, 1)
	require.Equal(t, "document", before[0]["type"])
}

func TestScopesAndUserNotifications(t *testing.T) {
	n := newTestNode(t, rediscluster.UniquePrefix(t), nil)
	a := dialWS(t, n, "/")
	b := dialWS(t, n, "/")
	w := dialWS(t, n, "/")
	setupCollection(t, w, "i", "c")
	filter := map[string]any{"range": map[string]any{"n": map[string]any{"gte": 10}}}

	resA := a.ok(map[string]any{"controller": "realtime", "action": "subscribe", "index": "i", "collection": "c", "body": filter, "users": "all", "scope": "out"}).(map[string]any)
	require.True(t, strings.HasSuffix(resA["channel"].(string), "-113"))
	// b joins the same room: a gets a user notification "in" with b's volatile.
	resp, _ := b.query(map[string]any{"controller": "realtime", "action": "join", "body": map[string]any{"roomId": resA["roomId"]}, "volatile": map[string]any{"who": "b"}, "scope": "in"})
	require.Nil(t, resp["error"], "%v", resp)
	m := a.next()
	require.Equal(t, "user", m["type"])
	require.Equal(t, "in", m["user"])
	require.Equal(t, map[string]any{"count": float64(2)}, m["result"])
	require.Equal(t, map[string]any{"who": "b"}, m["volatile"])
	require.Equal(t, "join", m["action"])

	// Scope: a (out) gets nothing on entering, b (in) does.
	w.ok(map[string]any{"controller": "document", "action": "createOrReplace", "index": "i", "collection": "c", "_id": "d", "body": map[string]any{"n": 20}})
	require.Equal(t, "in", b.next()["scope"])
	a.noMessage()
	w.ok(map[string]any{"controller": "document", "action": "createOrReplace", "index": "i", "collection": "c", "_id": "d", "body": map[string]any{"n": 1}})
	m = a.next()
	require.Equal(t, "out", m["scope"])
	require.Equal(t, "replace", m["action"])
	b.noMessage()

	// b disconnects: a gets "out" with count 1 and b's volatile.
	require.NoError(t, b.c.CloseNow())
	m = a.next()
	require.Equal(t, "user", m["type"])
	require.Equal(t, "out", m["user"])
	require.Equal(t, "unsubscribe", m["action"])
	require.Equal(t, map[string]any{"count": float64(1)}, m["result"])
	require.Equal(t, map[string]any{"who": "b"}, m["volatile"])
}

// TestOutStateIsShared checks that "out" notifications come from the state
// kept in Redis: a document written on one node and changed on another
// notifies the second node's subscribers that it left their room.
func TestOutStateIsShared(t *testing.T) {
	prefix := rediscluster.UniquePrefix(t)
	n1 := newTestNode(t, prefix, nil)
	n2 := newTestNode(t, prefix, nil)
	s1 := dialWS(t, n1, "/")
	s2 := dialWS(t, n2, "/")
	setupCollection(t, s1, "i", "c")
	f := map[string]any{"equals": map[string]any{"k": "v"}}
	s1.ok(map[string]any{"controller": "realtime", "action": "subscribe", "index": "i", "collection": "c", "body": f})
	s2.ok(map[string]any{"controller": "realtime", "action": "subscribe", "index": "i", "collection": "c", "body": f})

	resp, before := s1.query(map[string]any{"controller": "document", "action": "create", "index": "i", "collection": "c", "_id": "x", "body": map[string]any{"k": "v"}})
	require.Nil(t, resp["error"])
	// (on a single-node registry only n1's subscribers hear of n1's writes)
	require.Len(t, before, 1)
	require.Equal(t, "in", before[0]["scope"])
	s2.noMessage()
	resp, before = s2.query(map[string]any{"controller": "document", "action": "update", "index": "i", "collection": "c", "_id": "x", "body": map[string]any{"k": "w"}})
	require.Nil(t, resp["error"])
	require.Len(t, before, 1)
	m := before[0]
	require.Equal(t, "out", m["scope"])
	require.Equal(t, "x", m["result"].(map[string]any)["_id"])
}

// TestBurstOfNotificationsIsNotSlowConsumer: an m* write notifying its own
// author produces a burst far faster than a socket drains; a client that
// reads is not taken for a slow consumer.
func TestBurstOfNotificationsIsNotSlowConsumer(t *testing.T) {
	n := newTestNode(t, rediscluster.UniquePrefix(t), nil)
	ws := dialWS(t, n, "/")
	setupCollection(t, ws, "i", "c")
	ws.ok(map[string]any{"controller": "realtime", "action": "subscribe", "index": "i", "collection": "c", "body": map[string]any{}})
	const count = 2000
	docs := make([]any, count)
	for i := range docs {
		docs[i] = map[string]any{"body": map[string]any{"i": i}}
	}
	resp, before := ws.query(map[string]any{"controller": "document", "action": "mCreate", "index": "i", "collection": "c", "body": map[string]any{"documents": docs}})
	require.Nil(t, resp["error"])
	require.Len(t, resp["result"].(map[string]any)["successes"], count)
	require.Len(t, before, count)
	require.Zero(t, n.srv.SlowConsumersClosed())
}

// TestRoomIDsAreKuzzles checks the room ids of the reference's worked
// examples: the same filter gets the same room as on Kuzzle.
func TestRoomIDsAreKuzzles(t *testing.T) {
	n := newTestNode(t, rediscluster.UniquePrefix(t), nil)
	ws := dialWS(t, n, "/")
	cases := []struct {
		index, coll string
		filter      map[string]any
		room        string
	}{
		{"nyc-open-data", "yellow-taxi", map[string]any{}, "508a79aa1dd1118a980a3cbeb403662fd5c4cd9885c632ea19c03d236f3cd110"},
		{"test-index", "test-collection", map[string]any{"equals": map[string]any{"foo": "barz"}}, "cf188c7c9e95269b65b8c93ec0ff40488f5d3a80e9792bb1132bca761b30055c"},
	}
	for _, tc := range cases {
		res := ws.ok(map[string]any{"controller": "realtime", "action": "subscribe", "index": tc.index, "collection": tc.coll, "body": tc.filter, "users": "all"}).(map[string]any)
		require.Equal(t, tc.room, res["roomId"])
		require.Equal(t, tc.room+"-111", res["channel"])
	}
}

// lockedBuffer is a log destination that the server writes and the test
// reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestNotifyFailureIsLoggedAndCounted: when the notifications of a write
// fail (here the out-state cannot be saved: its Redis client is closed),
// the write still succeeds, and the failure is logged and counted.
func TestNotifyFailureIsLoggedAndCounted(t *testing.T) {
	prefix := rediscluster.UniquePrefix(t)
	closed, err := testCluster.Client()
	require.NoError(t, err)
	closed.Close()
	var logs lockedBuffer
	n := newTestNode(t, prefix, func(cfg *Config) {
		reg := realtime.NewLocalRegistry(koncorde.DefaultConfig())
		hub := realtime.NewHub(realtime.HubConfig{}, reg)
		cfg.Realtime = realtime.NewService(realtime.ServiceConfig{NodeID: "node-test"}, hub, reg,
			realtime.NewLocalRouter(hub), realtime.NewRedisOutState(closed, prefix, time.Hour))
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	ws := dialWS(t, n, "/")
	setupCollection(t, ws, "i", "c")
	ws.ok(map[string]any{"controller": "realtime", "action": "subscribe", "index": "i", "collection": "c", "body": map[string]any{}})
	require.Zero(t, n.srv.NotifyFailures())

	resp, before := ws.query(map[string]any{"controller": "document", "action": "create", "index": "i", "collection": "c", "_id": "a", "body": map[string]any{"n": 1}})
	require.Nil(t, resp["error"], "%v", resp)
	require.Equal(t, "a", resp["result"].(map[string]any)["_id"])
	require.Len(t, before, 1, "the notification itself went out before the out-state save failed")
	require.EqualValues(t, 1, n.srv.NotifyFailures())
	require.Contains(t, logs.String(), "api: notify")

	// A silent write sends nothing, so nothing can fail.
	ws.ok(map[string]any{"controller": "document", "action": "create", "index": "i", "collection": "c", "_id": "b", "body": map[string]any{"n": 2}, "silent": true})
	require.EqualValues(t, 1, n.srv.NotifyFailures())
}
