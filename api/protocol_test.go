package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
)

func TestWebSocketEnvelope(t *testing.T) {
	n := newTestNode(t, rediscluster.UniquePrefix(t), nil)
	ws := dialWS(t, n, "/any/path/works")

	resp, _ := ws.query(map[string]any{"controller": "auth", "action": "checkToken", "body": map[string]any{}, "volatile": map[string]any{"v": 1}})
	require.Equal(t, map[string]any{"valid": true, "kuid": "-1", "expiresAt": nil}, resp["result"])
	require.Contains(t, resp, "error")
	require.Nil(t, resp["error"])
	require.Equal(t, resp["requestId"], resp["room"])
	require.Equal(t, "node-test", resp["node"])
	require.Equal(t, map[string]any{"v": float64(1)}, resp["volatile"])
	require.Equal(t, map[string]any{}, resp["headers"])
	require.NotContains(t, resp, "index")

	// No requestId: one is generated and used as room.
	ws.sendRaw(`{"controller":"server","action":"now"}`)
	m := ws.next()
	id, _ := m["requestId"].(string)
	require.Len(t, id, 36)
	require.Equal(t, id, m["room"])
	require.Greater(t, m["result"].(map[string]any)["now"], float64(1.7e12))

	// Application ping.
	ws.sendRaw(`{"p":1}`)
	select {
	case b := <-ws.msgs:
		require.Equal(t, `{"p":2}`, string(b))
	case <-time.After(5 * time.Second):
		t.Fatal("no pong")
	}

	// Protocol ping.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	require.NoError(t, ws.c.Ping(ctx))
	cancel()
}

func TestWebSocketBadInput(t *testing.T) {
	n := newTestNode(t, rediscluster.UniquePrefix(t), nil)
	ws := dialWS(t, n, "/")

	ws.sendRaw(`{"controller": "server", nope`)
	m := ws.next()
	require.Equal(t, "network.websocket.unexpected_error", errID(m))
	require.EqualValues(t, 400, m["status"])
	require.EqualValues(t, 50528257, m["error"].(map[string]any)["code"])
	require.NotContains(t, m, "room")

	ws.sendRaw(`{"controller":"server","action":"now","volatile":"nope","requestId":"v1"}`)
	m = ws.next()
	require.EqualValues(t, 400, m["status"])
	require.Equal(t, `Attribute volatile must be of type "object"`, m["error"].(map[string]any)["message"])
	require.Equal(t, "v1", m["requestId"])
	require.Equal(t, "v1", m["room"])
	ws.sendRaw(`{"controller":"server","action":"now","volatile":[1]}`)
	m = ws.next()
	require.EqualValues(t, 400, m["status"])
	require.NotContains(t, m, "room")

	cases := []struct {
		desc   string
		req    map[string]any
		id     string
		status int
	}{
		{"missing controller", map[string]any{"action": "now"}, "api.assert.missing_argument", 400},
		{"missing action", map[string]any{"controller": "server"}, "api.assert.missing_argument", 400},
		{"unknown controller", map[string]any{"controller": "nope", "action": "now"}, "api.process.controller_not_found", 404},
		{"unknown action", map[string]any{"controller": "server", "action": "nope"}, "api.process.action_not_found", 404},
		{"subscribe without index", map[string]any{"controller": "realtime", "action": "subscribe", "collection": "c", "body": map[string]any{}}, "api.assert.missing_argument", 400},
		{"subscribe without body", map[string]any{"controller": "realtime", "action": "subscribe", "index": "i", "collection": "c"}, "api.assert.body_required", 400},
		{"invalid filter", map[string]any{"controller": "realtime", "action": "subscribe", "index": "i", "collection": "c", "body": map[string]any{"equals": "x"}}, "api.assert.koncorde_dsl_error", 400},
		{"invalid scope", map[string]any{"controller": "realtime", "action": "subscribe", "index": "i", "collection": "c", "body": map[string]any{}, "scope": "sideways"}, "core.realtime.invalid_scope", 400},
		{"unsubscribe unknown", map[string]any{"controller": "realtime", "action": "unsubscribe", "body": map[string]any{"roomId": "nope"}}, "core.realtime.not_subscribed", 412},
		{"count unknown room", map[string]any{"controller": "realtime", "action": "count", "body": map[string]any{"roomId": "nope"}}, "core.realtime.room_not_found", 404},
		{"document in missing index", map[string]any{"controller": "document", "action": "create", "index": "missing", "collection": "c", "body": map[string]any{"a": 1}}, "services.storage.unknown_index", 412},
		{"body of the wrong type", map[string]any{"controller": "document", "action": "create", "index": "i", "collection": "c", "body": "str"}, "", 400},
		{"index of the wrong type", map[string]any{"controller": "index", "action": "create", "index": 12}, "api.assert.invalid_type", 400},
		{"size of the wrong type", map[string]any{"controller": "document", "action": "search", "index": "i", "collection": "c", "size": "ten"}, "api.assert.invalid_type", 400},
		{"roomId of the wrong type", map[string]any{"controller": "realtime", "action": "count", "body": map[string]any{"roomId": 3}}, "api.assert.invalid_type", 400},
		{"bad refresh", map[string]any{"controller": "document", "action": "create", "index": "i", "collection": "c", "body": map[string]any{}, "refresh": "now"}, "api.assert.invalid_argument", 400},
		{"get missing document", map[string]any{"controller": "document", "action": "get", "index": "missing", "collection": "c", "_id": "x"}, "services.storage.unknown_index", 412},
	}
	for _, tc := range cases {
		resp, before := ws.query(tc.req)
		require.Empty(t, before, tc.desc)
		require.Equal(t, tc.id, errID(resp), "%s: %v", tc.desc, resp)
		require.EqualValues(t, tc.status, resp["status"], tc.desc)
		require.Nil(t, resp["result"], tc.desc)
		require.Equal(t, resp["requestId"], resp["room"], tc.desc)
	}
	resp, _ := ws.query(map[string]any{"controller": "realtime", "action": "unsubscribe", "body": map[string]any{"roomId": "nope"}})
	require.Contains(t, resp["error"].(map[string]any)["message"], `has not subscribed to "nope".`)

	// The connection survived all of it.
	ws.noMessage()
}

func TestWebSocketOversizedFrame(t *testing.T) {
	n := newTestNode(t, rediscluster.UniquePrefix(t), func(c *Config) { c.MaxRequestSize = 1024 })
	ws := dialWS(t, n, "/")
	big := `{"controller":"server","action":"now","body":{"x":"` + strings.Repeat("a", 2000) + `"}}`
	ws.sendRaw(big)
	m := ws.next()
	require.Equal(t, "network.http.request_too_large", errID(m))
	require.EqualValues(t, 413, m["status"])
	ws.noMessage()

	// Beyond the hard cap (4× the limit) the socket is closed with 1009.
	ws.sendRaw(`{"x":"` + strings.Repeat("a", 8000) + `"}`)
	select {
	case err := <-ws.done:
		require.Equal(t, websocket.StatusMessageTooBig, websocket.CloseStatus(err), "%v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("socket not closed")
	}
}

func TestWebSocketSlowConsumerIsClosed(t *testing.T) {
	n := newTestNode(t, rediscluster.UniquePrefix(t), func(c *Config) { c.SendQueue = 4 })
	ctx := context.Background()
	// A subscriber that does not read.
	slow, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(n.url, "http"), nil)
	require.NoError(t, err)
	slow.SetReadLimit(64 << 20)
	defer slow.CloseNow()
	require.NoError(t, slow.Write(ctx, websocket.MessageText, []byte(`{"controller":"realtime","action":"subscribe","index":"i","collection":"c","body":{},"requestId":"s"}`)))
	_, data, err := slow.Read(ctx)
	require.NoError(t, err)
	require.Contains(t, string(data), `"roomId"`)

	pub := dialWS(t, n, "/")
	payload := strings.Repeat("x", 64<<10)
	closed := false
	for i := 0; i < 2000 && !closed; i++ {
		pub.ok(map[string]any{"controller": "realtime", "action": "publish", "index": "i", "collection": "c", "body": map[string]any{"p": payload}})
		closed = n.srv.SlowConsumersClosed() > 0
	}
	require.True(t, closed, "the slow consumer was never disconnected")

	// Once the client reads again it drains what was sent, then gets 1011.
	var closeErr error
	for {
		readCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, _, err := slow.Read(readCtx)
		cancel()
		if err != nil {
			closeErr = err
			break
		}
	}
	var ce websocket.CloseError
	require.True(t, errors.As(closeErr, &ce), "%v", closeErr)
	require.Equal(t, websocket.StatusInternalError, ce.Code)
	require.Equal(t, backpressureReason, ce.Reason)
}

func TestReadinessGate(t *testing.T) {
	n := newTestNode(t, rediscluster.UniquePrefix(t), nil)
	ws := dialWS(t, n, "/")
	n.ready.Store(false)
	resp, _ := ws.query(map[string]any{"controller": "server", "action": "now"})
	require.Equal(t, "api.process.not_enough_nodes", errID(resp))
	require.EqualValues(t, 503, resp["status"])
	code, body := httpDo(t, n, "GET", "/_now", "", nil)
	require.Equal(t, 503, code)
	require.Equal(t, "api.process.not_enough_nodes", errID(body))
	n.ready.Store(true)
	ws.noMessage()
}

func TestManyConnections(t *testing.T) {
	n := newTestNode(t, rediscluster.UniquePrefix(t), nil)
	for i := 0; i < 20; i++ {
		ws := dialWS(t, n, fmt.Sprintf("/c%d", i))
		ws.noMessage()
	}
}

func TestWebSocketIdleTimeout(t *testing.T) {
	n := newTestNode(t, rediscluster.UniquePrefix(t), func(c *Config) { c.IdleTimeout = time.Second })
	// A live client (its read loop answers the server's pings) stays.
	live := dialWS(t, n, "/")
	live.ok(map[string]any{"controller": "realtime", "action": "subscribe", "index": "i", "collection": "c", "body": map[string]any{}})

	// A client that never reads cannot answer pings: it is dropped, and
	// so are its subscriptions.
	ctx := context.Background()
	dead, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(n.url, "http"), nil)
	require.NoError(t, err)
	defer dead.CloseNow()
	require.NoError(t, dead.Write(ctx, websocket.MessageText, []byte(`{"controller":"realtime","action":"subscribe","index":"i","collection":"c","body":{},"requestId":"d"}`)))
	require.Eventually(t, func() bool { return n.srv.ConnCount() == 2 }, 5*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { return n.srv.ConnCount() == 1 }, 15*time.Second, 50*time.Millisecond)
	res := live.ok(map[string]any{"controller": "realtime", "action": "list"}).(map[string]any)
	rooms := res["i"].(map[string]any)["c"].(map[string]any)
	for _, count := range rooms {
		require.EqualValues(t, 1, count)
	}
	time.Sleep(2500 * time.Millisecond) // several idle periods: the live client is still there
	live.noMessage()
	require.Equal(t, 1, n.srv.ConnCount())
}

func TestCloseWithActiveClients(t *testing.T) {
	n := newTestNode(t, rediscluster.UniquePrefix(t), nil)
	var clients []*wsClient
	for i := 0; i < 10; i++ {
		ws := dialWS(t, n, "/")
		ws.ok(map[string]any{"controller": "realtime", "action": "subscribe", "index": "i", "collection": "c", "body": map[string]any{}})
		clients = append(clients, ws)
	}
	pub := dialWS(t, n, "/")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 50; i++ {
			b, _ := json.Marshal(map[string]any{"controller": "realtime", "action": "publish", "index": "i", "collection": "c", "body": map[string]any{"i": i}})
			if pub.c.Write(context.Background(), websocket.MessageText, b) != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, n.srv.Close(ctx))
	require.NoError(t, n.srv.Close(ctx), "Close is idempotent")
	<-done
	for _, ws := range clients {
		select {
		case err := <-ws.done:
			require.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(err))
		case <-time.After(10 * time.Second):
			t.Fatal("client not closed")
		}
	}
	require.Equal(t, 0, n.srv.ConnCount())
}
