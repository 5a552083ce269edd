package cluster_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/realtime/cluster"
	"github.com/streamcluster/streamcluster/realtime/realtimetest"
	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
	"github.com/streamcluster/streamcluster/streams"
)

func TestCrossNodeDelivery(t *testing.T) {
	client := newClient(t)
	prefix := rediscluster.UniquePrefix(t)
	nodes := startNodes(t, client, prefix, "a", "b", "c")
	a, b, c := nodes[0], nodes[1], nodes[2]

	onA := realtimetest.NewConn("conn-a")
	f := filter(t, "idx", "coll", `{"equals":{"name":"x"}}`)
	sub := subscribe(t, a, onA, f)
	allSee(t, map[string]int{sub.RoomID: 1}, a, b, c)

	// A matching write through B reaches A's connection once.
	rooms := write(t, b, "idx", "coll", map[string]any{"name": "x", "n": 1})
	require.Equal(t, []string{sub.RoomID}, rooms)
	require.Eventually(t, func() bool { return onA.Len() == 1 }, 5*time.Second, 5*time.Millisecond)
	got := onA.All()[0]
	assert.Equal(t, "document", got["type"])
	assert.Equal(t, "in", got["scope"])
	assert.Equal(t, "b", got["node"])
	assert.Equal(t, sub.Channel, got["room"])

	// A non-matching write matches nothing and delivers nothing; a second
	// matching one through C then arrives alone, so nothing else was sent.
	assert.Empty(t, write(t, b, "idx", "coll", map[string]any{"name": "y"}))
	assert.Empty(t, write(t, c, "idx", "other", map[string]any{"name": "x"}))
	write(t, c, "idx", "coll", map[string]any{"name": "x", "n": 2})
	require.Eventually(t, func() bool { return onA.Len() == 2 }, 5*time.Second, 5*time.Millisecond)
	assert.EqualValues(t, 2, onA.All()[1]["result"].(map[string]any)["_source"].(map[string]any)["n"])

	// C has no subscriber: its inbox got nothing. B and C sent one entry
	// each, to A only; no gaps.
	assert.Zero(t, c.router.Stats().Received)
	assert.Zero(t, b.router.Stats().Received)
	assert.EqualValues(t, 2, a.router.Stats().Received)
	assert.EqualValues(t, 1, b.router.Stats().Sent)
	assert.EqualValues(t, 1, c.router.Stats().Sent)
	assert.Zero(t, a.router.Stats().Gaps)

	// A subscriber on C too: a write through B reaches both, a write
	// through A reaches its own connection directly and C's through C's
	// inbox.
	onC := realtimetest.NewConn("conn-c")
	subscribe(t, c, onC, f)
	allSee(t, map[string]int{sub.RoomID: 2}, a, b, c)
	write(t, b, "idx", "coll", map[string]any{"name": "x"})
	require.Eventually(t, func() bool { return onA.Len() == 3 && onC.Len() == 1 }, 5*time.Second, 5*time.Millisecond)
	write(t, a, "idx", "coll", map[string]any{"name": "x"})
	assert.Equal(t, 4, onA.Len(), "local delivery is synchronous")
	require.Eventually(t, func() bool { return onC.Len() == 2 }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, 4, onA.Len())
}

func TestCountsListAndLeave(t *testing.T) {
	client := newClient(t)
	prefix := rediscluster.UniquePrefix(t)
	nodes := startNodes(t, client, prefix, "a", "b", "c")
	a, b, c := nodes[0], nodes[1], nodes[2]
	ctx := context.Background()

	fr := filter(t, "idx", "coll", `{"range":{"age":{"gte":18}}}`)
	fs := filter(t, "idx", "coll", `{"exists":"email"}`)
	a1, a2, b1, b2 := realtimetest.NewConn("a1"), realtimetest.NewConn("a2"), realtimetest.NewConn("b1"), realtimetest.NewConn("b2")
	r := subscribe(t, a, a1, fr).RoomID
	subscribe(t, a, a2, fr)
	subscribe(t, b, b1, fr)
	s := subscribe(t, b, b2, fs).RoomID
	allSee(t, map[string]int{r: 3, s: 1}, a, b, c)
	assert.Equal(t, map[string]int{"a": 2, "b": 1}, c.reg.Counts(r))
	info, ok := c.reg.Room(s)
	require.True(t, ok)
	assert.Equal(t, "idx", info.Index)
	assert.Equal(t, "coll", info.Collection)
	assert.Equal(t, s, info.Filter.RoomID())
	assert.True(t, c.reg.HasRooms("idx", "coll"))
	assert.False(t, c.reg.HasRooms("idx", "other"))

	// Unsubscribing lowers the count everywhere.
	_, err := a.hub.Unsubscribe(ctx, "a2", r)
	require.NoError(t, err)
	allSee(t, map[string]int{r: 2, s: 1}, a, b, c)

	// B leaves: its counts vanish on A and C, its room only it served is
	// gone, and the snapshot holds nothing of B.
	b.leave(t)
	allSee(t, map[string]int{r: 1}, a, c)
	assert.False(t, a.reg.HasRooms("idx", "coll") && len(a.reg.Match("idx", "coll", map[string]any{"email": "e"}, "")) > 0)
	require.Eventually(t, func() bool {
		subs, rooms := snapshotFields(t, client, prefix)
		return !hasSuffix(subs, "b") && len(rooms) == 1 && rooms[0] == r
	}, 5*time.Second, 10*time.Millisecond)

	// The last subscriber leaves: the room is gone from every replica and
	// from the snapshot.
	_, err = a.hub.Unsubscribe(ctx, "a1", r)
	require.NoError(t, err)
	allSee(t, map[string]int{}, a, c)
	subs, rooms := snapshotFields(t, client, prefix)
	assert.Empty(t, subs)
	assert.Empty(t, rooms)
	assert.False(t, c.reg.HasRooms("idx", "coll"))
}

func TestEvictedNodeCountsVanish(t *testing.T) {
	client := newClient(t)
	prefix := rediscluster.UniquePrefix(t)
	nodes := startNodes(t, client, prefix, "a", "b", "c")
	a, b, c := nodes[0], nodes[1], nodes[2]

	f := filter(t, "idx", "coll", `{"equals":{"k":1}}`)
	only := filter(t, "idx", "coll", `{"equals":{"k":2}}`)
	r := subscribe(t, a, realtimetest.NewConn("a1"), f).RoomID
	subscribe(t, b, realtimetest.NewConn("b1"), f)
	o := subscribe(t, b, realtimetest.NewConn("b2"), only).RoomID
	allSee(t, map[string]int{r: 2, o: 1}, a, b, c)

	// B dies without leaving: A and C evict it after the timeout.
	b.kill()
	allSee(t, map[string]int{r: 1}, a, c)
	require.Eventually(t, func() bool {
		subs, rooms := snapshotFields(t, client, prefix)
		return !hasSuffix(subs, "b") && len(rooms) == 1
	}, 5*time.Second, 10*time.Millisecond)

	// A node joining now loads the snapshot: no ghost of B.
	d := startNode(t, client, prefix, "d")
	require.Eventually(t, d.n.Ready, 5*time.Second, 10*time.Millisecond)
	allSee(t, map[string]int{r: 1}, a, c, d)
}

func TestJoinerServesExistingRooms(t *testing.T) {
	client := newClient(t)
	prefix := rediscluster.UniquePrefix(t)
	nodes := startNodes(t, client, prefix, "a", "b")
	a, b := nodes[0], nodes[1]

	want := map[string]int{}
	conns := map[string]*realtimetest.Conn{}
	for i, fs := range []string{`{"equals":{"k":1}}`, `{"equals":{"k":2}}`, `{"in":{"s":["p","q"]}}`} {
		tn := nodes[i%2]
		c := realtimetest.NewConn("c" + fs)
		sub := subscribe(t, tn, c, filter(t, "idx", "coll", fs))
		want[sub.RoomID] = 1
		conns[sub.RoomID] = c
	}
	allSee(t, want, a, b)

	d := startNode(t, client, prefix, "d")
	require.Eventually(t, d.n.Ready, 5*time.Second, 10*time.Millisecond)
	allSee(t, want, a, b, d)
	rooms := write(t, d, "idx", "coll", map[string]any{"s": "q"})
	require.Len(t, rooms, 1)
	require.Eventually(t, func() bool { return conns[rooms[0]].Len() == 1 }, 5*time.Second, 5*time.Millisecond)
}

func TestRejoinReannounces(t *testing.T) {
	client := newClient(t)
	prefix := rediscluster.UniquePrefix(t)
	nodes := startNodes(t, client, prefix, "a", "b")
	a, b := nodes[0], nodes[1]

	onA := realtimetest.NewConn("a1")
	f := filter(t, "idx", "coll", `{"equals":{"k":1}}`)
	r := subscribe(t, a, onA, f).RoomID
	subscribe(t, b, realtimetest.NewConn("b1"), f)
	allSee(t, map[string]int{r: 2}, a, b)

	// Reset wipes the control plane and the snapshot: every node is fenced,
	// rejoins and re-announces its live subscriptions.
	incA := a.n.Members(context.Background())[0].Incarnation
	incB := b.n.Members(context.Background())[0].Incarnation
	require.NoError(t, a.n.Reset(context.Background()))
	require.Eventually(t, func() bool {
		return a.n.Members(context.Background())[0].Incarnation != incA && b.n.Members(context.Background())[0].Incarnation != incB
	}, 10*time.Second, 10*time.Millisecond, "both nodes rejoin")
	require.Eventually(t, func() bool {
		subs, rooms := snapshotFields(t, client, prefix)
		return len(subs) == 2 && len(rooms) == 1
	}, 10*time.Second, 10*time.Millisecond)
	allSee(t, map[string]int{r: 2}, a, b)
	write(t, b, "idx", "coll", map[string]any{"k": 1})
	require.Eventually(t, func() bool { return onA.Len() == 1 }, 5*time.Second, 5*time.Millisecond)
}

func TestNoInboxIsRecreatedForADepartedNode(t *testing.T) {
	client := newClient(t)
	prefix := rediscluster.UniquePrefix(t)
	// A long eviction timeout (3 s) keeps B in A's registry after it died.
	a := startNodeHB(t, client, prefix, "a", time.Second)
	b := startNodeHB(t, client, prefix, "b", time.Second)
	require.Eventually(t, func() bool {
		return a.n.Ready() && b.n.Ready() && len(a.n.Members(context.Background())) == 2 && len(b.n.Members(context.Background())) == 2
	}, 10*time.Second, 10*time.Millisecond)
	f := filter(t, "idx", "coll", `{"equals":{"k":1}}`)
	r := subscribe(t, b, realtimetest.NewConn("b1"), f).RoomID
	allSee(t, map[string]int{r: 1}, a, b)

	// B dies and its inbox is gone (as the evictor deletes it) while A
	// still routes to it: the append does not re-create the inbox.
	b.kill()
	inbox := streams.NewKeys(prefix).Inbox("b")
	require.NoError(t, client.Do(context.Background(), client.B().Del().Key(inbox).Build()).Error())
	write(t, a, "idx", "coll", map[string]any{"k": 1})
	assert.EqualValues(t, 1, a.router.Stats().Gone)
	assert.Zero(t, a.router.Stats().SendErrors)
	n, err := client.Do(context.Background(), client.B().Exists().Key(inbox).Build()).AsInt64()
	require.NoError(t, err)
	assert.Zero(t, n, "the departed node's inbox stays deleted")
}

func TestInboxSequenceGapsAreCounted(t *testing.T) {
	client := newClient(t)
	prefix := rediscluster.UniquePrefix(t)
	a := startNodes(t, client, prefix, "a")[0]
	onA := realtimetest.NewConn("a1")
	r := subscribe(t, a, onA, filter(t, "idx", "coll", `{"equals":{"k":1}}`)).RoomID

	// Entries of a sender "x" written straight into A's inbox: 1, 2, 5, 4
	// (3 lost, 4 late), then one of an unknown type.
	codec := streams.NewCodec(nil)
	inbox := streams.NewKeys(prefix).Inbox("a")
	add := func(typ string, seq uint64) {
		t.Helper()
		payload := []byte(`{"k":1,"r":["` + r + `"],"s":"in","p":{"type":"document","seq":` + strconv.FormatUint(seq, 10) + `}}`)
		f, err := codec.Encode(streams.Envelope{Type: typ, Sender: "x", Incarnation: 7, Seq: seq, Payload: payload})
		require.NoError(t, err)
		require.NoError(t, client.Do(context.Background(), client.B().Xadd().Key(inbox).Id("*").FieldValue().
			FieldValue(streams.FieldEnvelope, f.Blob).Build()).Error())
	}
	for _, seq := range []uint64{1, 2, 5, 4} {
		add(cluster.TypeNotify, seq)
	}
	add("Bogus", 6)
	require.Eventually(t, func() bool { return a.router.Stats().Rejected == 1 }, 5*time.Second, 5*time.Millisecond)
	st := a.router.Stats()
	assert.EqualValues(t, 4, st.Received)
	assert.EqualValues(t, 2, st.Gaps, "3 and 4 were skipped when 5 arrived")
	assert.EqualValues(t, 1, st.Late, "4 arrived after 5")
	var seqs []float64
	for _, m := range onA.All() {
		seqs = append(seqs, m["seq"].(float64))
		assert.Contains(t, m["room"], r, "delivered on the room's channel")
	}
	assert.Equal(t, []float64{1, 2, 5, 4}, seqs)
}

func TestFailedWriteIsRepaired(t *testing.T) {
	client := newClient(t)
	prefix := rediscluster.UniquePrefix(t)
	nodes := startNodes(t, client, prefix, "a", "b")
	a, b := nodes[0], nodes[1]
	f := filter(t, "idx", "coll", `{"equals":{"k":1}}`)
	r := subscribe(t, a, realtimetest.NewConn("a1"), f).RoomID
	subscribe(t, a, realtimetest.NewConn("a2"), f)
	allSee(t, map[string]int{r: 2}, a, b)

	// The cluster write of an unsubscription fails: A's own count drops at
	// once, B keeps the old one until A's next heartbeat repairs it.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := a.hub.Unsubscribe(ctx, "a2", r)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, map[string]int{r: 1}, a.reg.Local())
	allSee(t, map[string]int{r: 1}, a, b)
	subs, _ := snapshotFields(t, client, prefix)
	assert.Equal(t, []string{r + "|a"}, subs)
	n, err := client.Do(context.Background(), client.B().Hget().Key(cluster.ResetKeys(streams.NewKeys(prefix))[1]).Field(r+"|a").Build()).AsInt64()
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)
}
