package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/streamcluster/streamcluster/koncorde"
	"github.com/streamcluster/streamcluster/realtime"
	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
	"github.com/streamcluster/streamcluster/storage/redisstore"
)

var testCluster *rediscluster.Cluster

func TestMain(m *testing.M) {
	code := rediscluster.RunTests(m, &testCluster)
	if code == 0 {
		// Every connection, writer and ping goroutine has an owner that
		// waited for it.
		// rueidis may leave a cluster-topology refresh sleeping for a few
		// seconds after Close; it is the library's, not ours.
		if err := goleak.Find(goleak.IgnoreAnyFunction("github.com/redis/rueidis.(*clusterClient)._refresh.func2")); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

type testNode struct {
	srv   *Server
	http  *httptest.Server
	url   string
	ready atomic.Bool
}

// newTestNode starts a server on a real Redis Cluster with key prefix
// prefix (shared by nodes of one test) and tweak applied to its config.
func newTestNode(t testing.TB, prefix string, tweak func(*Config)) *testNode {
	t.Helper()
	client, err := testCluster.Client()
	require.NoError(t, err)
	t.Cleanup(client.Close)
	store, err := redisstore.New(redisstore.Config{Client: client, Prefix: strings.ReplaceAll(prefix, "-", "")})
	require.NoError(t, err)
	reg := realtime.NewLocalRegistry(koncorde.DefaultConfig())
	hub := realtime.NewHub(realtime.HubConfig{}, reg)
	rt := realtime.NewService(realtime.ServiceConfig{NodeID: "node-test"}, hub, reg,
		realtime.NewLocalRouter(hub), realtime.NewRedisOutState(client, prefix, time.Hour))
	n := &testNode{}
	n.ready.Store(true)
	cfg := Config{NodeID: "node-test", Store: store, Realtime: rt, Ready: n.ready.Load}
	if tweak != nil {
		tweak(&cfg)
	}
	srv, err := NewServer(cfg)
	require.NoError(t, err)
	n.srv = srv
	n.http = httptest.NewServer(srv)
	n.url = n.http.URL
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, srv.Close(ctx))
		n.http.Close()
		require.NoError(t, store.Close())
	})
	return n
}

// wsClient is a raw WebSocket client that collects every message.
type wsClient struct {
	t    testing.TB
	c    *websocket.Conn
	msgs chan []byte
	done chan error
	seq  atomic.Int64
}

func dialWS(t testing.TB, n *testNode, path string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(n.url, "http")+path, nil)
	require.NoError(t, err)
	c.SetReadLimit(64 << 20)
	w := &wsClient{t: t, c: c, msgs: make(chan []byte, 4096), done: make(chan error, 1)}
	go func() {
		for {
			_, data, err := c.Read(context.Background())
			if err != nil {
				w.done <- err
				close(w.msgs)
				return
			}
			w.msgs <- data
		}
	}()
	t.Cleanup(func() { _ = c.CloseNow() })
	return w
}

func (w *wsClient) sendRaw(s string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(w.t, w.c.Write(ctx, websocket.MessageText, []byte(s)))
}

// next returns the next message as a map.
func (w *wsClient) next() map[string]any {
	w.t.Helper()
	select {
	case b, ok := <-w.msgs:
		require.True(w.t, ok, "connection closed")
		var m map[string]any
		require.NoError(w.t, json.Unmarshal(b, &m), string(b))
		return m
	case <-time.After(5 * time.Second):
		w.t.Fatal("no message within 5s")
		return nil
	}
}

// query sends req (a requestId is added) and returns its response,
// collecting every other message (notifications) in before.
func (w *wsClient) query(req map[string]any) (resp map[string]any, before []map[string]any) {
	w.t.Helper()
	id := fmt.Sprintf("req-%d", w.seq.Add(1))
	req["requestId"] = id
	b, err := json.Marshal(req)
	require.NoError(w.t, err)
	w.sendRaw(string(b))
	for {
		m := w.next()
		if m["room"] == id {
			return m, before
		}
		before = append(before, m)
	}
}

// ok sends req and requires a successful response; it returns the result.
func (w *wsClient) ok(req map[string]any) any {
	w.t.Helper()
	resp, before := w.query(req)
	require.Nil(w.t, resp["error"], "%v", resp)
	require.EqualValues(w.t, 200, resp["status"])
	require.Empty(w.t, before, "unexpected messages before the response")
	return resp["result"]
}

// noMessage requires that nothing arrives until a round trip completes.
func (w *wsClient) noMessage() {
	w.t.Helper()
	resp, before := w.query(map[string]any{"controller": "server", "action": "now"})
	require.Nil(w.t, resp["error"])
	require.Empty(w.t, before)
}

func errID(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	id, _ := e["id"].(string)
	return id
}
