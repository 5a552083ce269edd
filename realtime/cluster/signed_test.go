package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/realtime/cluster"
	"github.com/streamcluster/streamcluster/realtime/realtimetest"
	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
	"github.com/streamcluster/streamcluster/streams"
)

// TestSignedInboxes: with a cluster secret, notifications between nodes are
// signed and verified; an unsigned entry forged into an inbox is dropped.
func TestSignedInboxes(t *testing.T) {
	client := newClient(t)
	prefix := rediscluster.UniquePrefix(t)
	secret := []byte("0123456789abcdef-cluster-secret")
	a := startNodeWith(t, client, prefix, "a", nodeOpts{secret: secret})
	b := startNodeWith(t, client, prefix, "b", nodeOpts{secret: secret})
	require.Eventually(t, func() bool {
		return a.n.Ready() && b.n.Ready() && len(a.n.Members(context.Background())) == 2 && len(b.n.Members(context.Background())) == 2
	}, 10*time.Second, 10*time.Millisecond)
	onA := realtimetest.NewConn("a1")
	r := subscribe(t, a, onA, filter(t, "idx", "coll", `{"equals":{"k":1}}`)).RoomID
	allSee(t, map[string]int{r: 1}, a, b)

	// A forged, unsigned notification: skipped by A's inbox reader.
	f, err := streams.NewCodec(nil).Encode(streams.Envelope{Type: cluster.TypeNotify, Sender: "b", Incarnation: 1, Seq: 1,
		Payload: []byte(`{"k":1,"r":["` + r + `"],"s":"in","p":{"forged":true}}`)})
	require.NoError(t, err)
	require.NoError(t, client.Do(context.Background(), client.B().Xadd().Key(streams.NewKeys(prefix).Inbox("a")).Id("*").
		FieldValue().FieldValue(streams.FieldEnvelope, f.Blob).Build()).Error())
	require.Eventually(t, func() bool { return a.router.InboxStats().Poison == 1 }, 5*time.Second, 5*time.Millisecond)

	// A signed one routed by B is delivered; the forged one never was.
	write(t, b, "idx", "coll", map[string]any{"k": 1})
	require.Eventually(t, func() bool { return onA.Len() == 1 }, 5*time.Second, 5*time.Millisecond)
	assert.Nil(t, onA.All()[0]["forged"])
	assert.Equal(t, "b", onA.All()[0]["node"])
	assert.EqualValues(t, 1, a.router.Stats().Received)
}
