package realtime

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/koncorde"
	"github.com/streamcluster/streamcluster/realtime/realtimetest"
	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
)

var testCluster *rediscluster.Cluster

func TestMain(m *testing.M) { os.Exit(rediscluster.RunTests(m, &testCluster)) }

func filter(t *testing.T, index, coll, f string) *koncorde.Filter {
	t.Helper()
	nf, err := koncorde.Normalize(koncorde.DefaultConfig(), index, coll, json.RawMessage(f))
	require.NoError(t, err)
	return nf
}

func newService(t *testing.T) *Service {
	t.Helper()
	client, err := testCluster.Client()
	require.NoError(t, err)
	t.Cleanup(client.Close)
	reg := NewLocalRegistry(koncorde.DefaultConfig())
	hub := NewHub(HubConfig{}, reg)
	return NewService(ServiceConfig{NodeID: "n1"}, hub, reg, NewLocalRouter(hub),
		NewRedisOutState(client, rediscluster.UniquePrefix(t), time.Minute))
}

func TestChannelName(t *testing.T) {
	cases := []struct {
		scope, users, want string
	}{
		{"all", "none", "r-311"},
		{"all", "all", "r-111"},
		{"in", "in", "r-212"},
		{"out", "out", "r-313"},
		{"none", "none", "r-31"},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, ChannelName("r", Options{Scope: tc.scope, Users: tc.users}), "%+v", tc)
	}
	_, err := Options{Scope: "sideways"}.Validate()
	require.ErrorIs(t, err, ErrInvalidScope)
	_, err = Options{Users: "x"}.Validate()
	require.ErrorIs(t, err, ErrInvalidUsers)
}

func TestDocumentMessageKeyOrder(t *testing.T) {
	m, err := DocumentMessage("n1", Origin{RequestID: "r", Controller: "document", Protocol: "websocket", Index: "i", Collection: "c", Timestamp: 5},
		[]string{"room"}, "in", ActionCreate, json.RawMessage(`{"_id":"x"}`))
	require.NoError(t, err)
	require.Equal(t, `{"type":"document","status":200,"action":"create","scope":"in","result":{"_id":"x"},"node":"n1","event":"write","requestId":"r","timestamp":5,"volatile":null,"index":"i","collection":"c","controller":"document","protocol":"websocket"}`, string(m.Payload))
	require.Equal(t, `{"a":1,"room":"ch-311"}`, string(withRoom([]byte(`{"a":1}`), "ch-311")))
}

func TestSubscribeCountsAndUserNotifications(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	a, b := realtimetest.NewConn("a"), realtimetest.NewConn("b")
	f := filter(t, "i", "c", `{"equals":{"k":"v"}}`)
	o := Origin{Controller: "realtime", Action: "subscribe", Index: "i", Collection: "c"}

	subA, err := s.Subscribe(ctx, a, f, Options{Users: "all"}, o)
	require.NoError(t, err)
	require.Equal(t, f.RoomID()+"-111", subA.Channel)
	require.Empty(t, a.Take(), "a subscriber is not told of its own arrival")

	o.Volatile = json.RawMessage(`{"who":"b"}`)
	subB, err := s.Subscribe(ctx, b, f, Options{}, o)
	require.NoError(t, err)
	require.Equal(t, subA.RoomID, subB.RoomID)
	msgs := a.Take()
	require.Len(t, msgs, 1)
	require.Equal(t, "in", msgs[0]["user"])
	require.Equal(t, map[string]any{"count": float64(2)}, msgs[0]["result"])
	require.Empty(t, b.Take(), "b's channel has users:none")

	n, ok := s.Count(subA.RoomID)
	require.True(t, ok)
	require.Equal(t, 2, n)
	require.Equal(t, map[string]map[string]map[string]int{"i": {"c": {subA.RoomID: 2}}}, s.List())

	// Same connection subscribing again: no new subscriber, no notification.
	_, err = s.Subscribe(ctx, b, f, Options{Scope: "in"}, o)
	require.NoError(t, err)
	n, _ = s.Count(subA.RoomID)
	require.Equal(t, 2, n)
	require.Empty(t, a.Take())

	require.NoError(t, s.RemoveConn(ctx, "b", "websocket"))
	msgs = a.Take()
	require.Len(t, msgs, 1)
	require.Equal(t, "out", msgs[0]["user"])
	require.Equal(t, map[string]any{"who": "b"}, msgs[0]["volatile"])
	require.ErrorIs(t, s.Unsubscribe(ctx, "b", subA.RoomID, "websocket"), ErrNotSubscribed)
	require.NoError(t, s.Unsubscribe(ctx, "a", subA.RoomID, "websocket"))
	_, ok = s.Count(subA.RoomID)
	require.False(t, ok)
	require.False(t, s.Hub().HasRoom(subA.RoomID))
}

func TestNotifyInAndOut(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	all, in, out := realtimetest.NewConn("all"), realtimetest.NewConn("in"), realtimetest.NewConn("out")
	f := filter(t, "i", "c", `{"range":{"n":{"gte":10}}}`)
	o := Origin{Controller: "realtime", Action: "subscribe", Index: "i", Collection: "c"}
	for c, scope := range map[*realtimetest.Conn]string{all: "all", in: "in", out: "out"} {
		_, err := s.Subscribe(ctx, c, f, Options{Scope: scope}, o)
		require.NoError(t, err)
	}
	w := Origin{Controller: "document", Action: "create", Index: "i", Collection: "c", RequestID: "w"}
	change := func(n float64) []Change {
		return []Change{{ID: "d", Source: map[string]any{"n": n}, Result: json.RawMessage(`{"_id":"d"}`)}}
	}
	scopes := func(c *realtimetest.Conn) []string {
		var out []string
		for _, m := range c.Take() {
			out = append(out, m["scope"].(string)+":"+m["action"].(string))
		}
		return out
	}

	require.NoError(t, s.NotifyDocuments(ctx, w, ActionCreate, change(5)))
	require.Empty(t, scopes(all))
	require.NoError(t, s.NotifyDocuments(ctx, w, ActionUpdate, change(12)))
	require.Equal(t, []string{"in:update"}, scopes(all))
	require.Equal(t, []string{"in:update"}, scopes(in))
	require.Empty(t, scopes(out))
	require.NoError(t, s.NotifyDocuments(ctx, w, NotifyWrite, change(1)))
	require.Equal(t, []string{"out:replace"}, scopes(all))
	require.Empty(t, scopes(in))
	require.Equal(t, []string{"out:replace"}, scopes(out))
	require.NoError(t, s.NotifyDocuments(ctx, w, NotifyUpsert, change(3)))
	require.Empty(t, scopes(all), "already out: no second out")
	require.NoError(t, s.NotifyDocuments(ctx, w, NotifyUpsert, []Change{{ID: "e", Source: map[string]any{"n": 50.0}, Result: json.RawMessage(`{}`), Created: true}}))
	require.Equal(t, []string{"in:create"}, scopes(all))
	require.NoError(t, s.NotifyDocuments(ctx, w, ActionDelete, []Change{{ID: "e", Source: map[string]any{"n": 50.0}, Result: json.RawMessage(`{}`)}}))
	require.Equal(t, []string{"out:delete"}, scopes(all))
	require.Equal(t, []string{"out:delete"}, scopes(out))
	// Other collections are untouched.
	require.NoError(t, s.NotifyDocuments(ctx, Origin{Index: "i", Collection: "other"}, ActionCreate, change(50)))
	require.Empty(t, scopes(all))
}

func TestTooManyRooms(t *testing.T) {
	ctx := context.Background()
	reg := NewLocalRegistry(koncorde.DefaultConfig())
	hub := NewHub(HubConfig{MaxRooms: 1}, reg)
	c := realtimetest.NewConn("c")
	_, err := hub.Subscribe(ctx, c, "i", "c", filter(t, "i", "c", `{}`), Options{}, nil)
	require.NoError(t, err)
	_, err = hub.Subscribe(ctx, c, "i", "c", filter(t, "i", "c", `{"exists":"a"}`), Options{}, nil)
	require.ErrorIs(t, err, ErrTooManyRooms)
}
