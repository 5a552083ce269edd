package nodetest

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/streams"
)

// With --secret, serve signs every control entry: forged entries are
// skipped and counted, and a node with another secret cannot join.
func TestSignedControlPlane(t *testing.T) {
	c := newCluster(t, 200*time.Millisecond, "--secret", "nodetest-shared-secret-0123")
	a, b := c.start("a"), c.start("b")
	waitAllReady(t, 5*time.Second, a, b)
	want := incarnations(a, b)

	client, err := testCluster.Client()
	require.NoError(t, err)
	defer client.Close()
	ctx := redisCtx(t)
	keys := streams.NewKeys(c.prefix)
	// An unsigned NodeEvicted of b "from a", claiming the next sequence,
	// and an entry that is no envelope at all.
	data, err := json.Marshal(map[string]string{"id": "b", "incarnation": strconv.FormatUint(want["b"], 10), "reason": "forged"})
	require.NoError(t, err)
	f, err := streams.NewCodec(nil).EncodeControl(streams.Envelope{Type: "NodeEvicted", Sender: "a", Incarnation: want["a"], Payload: data})
	require.NoError(t, err)
	seq, err := client.Do(ctx, client.B().Get().Key(keys.Seq()).Build()).AsInt64()
	require.NoError(t, err)
	require.NoError(t, client.Do(ctx, client.B().Xadd().Key(keys.Control()).Id("*").FieldValue().
		FieldValue(streams.FieldSeq, strconv.FormatInt(seq+1, 10)).FieldValue(streams.FieldEnvelope, f.Blob).Build()).Error())
	require.NoError(t, client.Do(ctx, client.B().Xadd().Key(keys.Control()).Id("*").FieldValue().
		FieldValue("junk", "\x00\xff").Build()).Error())

	for _, p := range []*proc{a, b} {
		require.Eventually(t, func() bool {
			unsigned, ok1 := p.metric(`streamcluster_control_rejected_total{node="` + p.id + `",reason="unsigned"}`)
			malformed, ok2 := p.metric(`streamcluster_control_rejected_total{node="` + p.id + `",reason="malformed"}`)
			return ok1 && ok2 && unsigned == 1 && malformed == 1
		}, 3*time.Second, 20*time.Millisecond, "rejections counted by %s", p.id)
		assert.Contains(t, p.log.String(), "control entry rejected and skipped", p.id)
	}

	// A node with another secret is refused at join (the live members'
	// secret fingerprint differs) instead of joining a cluster whose
	// entries it would reject and which would reject its own.
	d := c.start("d", "--secret", "another-secret-0123456789")
	require.Eventually(t, func() bool { return strings.Contains(d.log.String(), "secret differs") }, 5*time.Second, 20*time.Millisecond,
		"d's join is refused with a clear error")
	time.Sleep(c.timeout())
	waitAllReady(t, 5*time.Second, a, b)
	assert.Equal(t, want, incarnations(a, b), "nobody was evicted or rejoined")
	for _, p := range []*proc{a, b} {
		assert.Equal(t, 2, p.status().Count, "d is not a member for %s", p.id)
		v, ok := p.metric(`streamcluster_control_rejected_total{node="` + p.id + `",reason="bad_signature"}`)
		assert.True(t, ok)
		assert.Zero(t, v, "d wrote no control entry")
		assert.NotContains(t, p.log.String(), "resync", p.id)
	}
}
