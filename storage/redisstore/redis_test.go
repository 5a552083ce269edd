package redisstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
	"github.com/streamcluster/streamcluster/storage"
	"github.com/streamcluster/streamcluster/storage/redisstore"
)

func TestConfigValidate(t *testing.T) {
	_, err := redisstore.New(redisstore.Config{})
	require.ErrorIs(t, err, redisstore.ErrBadConfig)
	_, err = redisstore.New(redisstore.Config{Client: newClient(t), Prefix: "a{b"})
	require.ErrorIs(t, err, redisstore.ErrBadConfig)
	_, err = redisstore.New(redisstore.Config{Client: newClient(t), ScrollTTL: -time.Second})
	require.ErrorIs(t, err, redisstore.ErrBadConfig)
}

func TestClose(t *testing.T) {
	st := newStore(t)
	require.NoError(t, st.Close())
	require.NoError(t, st.Close(), "Close is idempotent")
	_, err := st.Get(t.Context(), "i", "c", "d")
	require.ErrorIs(t, err, redisstore.ErrClosed)
	require.ErrorIs(t, st.CreateIndex(t.Context(), "i"), redisstore.ErrClosed)
}

func TestScrollExpires(t *testing.T) {
	ctx := t.Context()
	st := newStore(t)
	require.NoError(t, st.CreateIndex(ctx, "i"))
	require.NoError(t, st.CreateCollection(ctx, "i", "c", nil))
	for i := range 3 {
		_, err := st.Create(ctx, "i", "c", fmt.Sprint(i), map[string]any{"n": i}, storage.WriteOptions{})
		require.NoError(t, err)
	}
	res, err := st.Search(ctx, "i", "c", storage.SearchRequest{Size: 1, Scroll: 300 * time.Millisecond, Sort: json.RawMessage(`"n"`)})
	require.NoError(t, err)
	require.Equal(t, "0", res.Hits[0].ID)
	next, err := st.Scroll(ctx, res.ScrollID, 0)
	require.NoError(t, err)
	require.Equal(t, "1", next.Hits[0].ID, "ttl 0 keeps the cursor's own duration")
	// Every Scroll call extends the cursor's life, so poll less often than
	// its TTL.
	require.Eventually(t, func() bool {
		_, err := st.Scroll(ctx, res.ScrollID, 0)
		return storage.IsKind(err, storage.ErrUnknownScrollID)
	}, 5*time.Second, 500*time.Millisecond, "the cursor expires after its TTL")
}

// TestFailover checks that documents, versions and the collection survive a
// failover of the collection's master, and that writes go on afterwards.
func TestFailover(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	prefix := rediscluster.UniquePrefix(t)
	st, err := redisstore.New(redisstore.Config{Client: newClient(t), Prefix: prefix})
	require.NoError(t, err)
	require.NoError(t, st.CreateIndex(ctx, "i"))
	require.NoError(t, st.CreateCollection(ctx, "i", "c", nil))
	_, err = st.Create(ctx, "i", "c", "d", map[string]any{"v": 1}, storage.WriteOptions{})
	require.NoError(t, err)

	// A manual CLUSTER FAILOVER lets the replica catch up before it takes
	// over, so no acknowledged write is lost.
	docsKey := "{" + prefix + ":c:i:c}:d"
	_, err = testCluster.Failover(ctx, docsKey)
	require.NoError(t, err)

	require.Eventually(t, func() bool {
		doc, err := st.Update(ctx, "i", "c", "d", map[string]any{"v": 2}, storage.UpdateOptions{})
		return err == nil && doc.Version == 2
	}, 20*time.Second, 100*time.Millisecond)
	doc, err := st.Get(ctx, "i", "c", "d")
	require.NoError(t, err)
	require.EqualValues(t, 2, doc.Version)
	require.EqualValues(t, 2, doc.Source["v"])
}

func TestPing(t *testing.T) {
	st, err := redisstore.New(redisstore.Config{Client: newClient(t)})
	require.NoError(t, err)
	require.NoError(t, st.Ping(t.Context()))
	require.NoError(t, st.Close())
	require.ErrorIs(t, st.Ping(t.Context()), redisstore.ErrClosed)
}
