package redisstore_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
	"github.com/streamcluster/streamcluster/storage"
	"github.com/streamcluster/streamcluster/storage/redisstore"
	"github.com/streamcluster/streamcluster/storage/storagetest"
)

var testCluster *rediscluster.Cluster

func TestMain(m *testing.M) {
	code := rediscluster.RunTests(m, &testCluster)
	if code == 0 {
		// rueidis sleeps in goroutines of its own after a cluster topology
		// refresh (a failover); they end by themselves and are not ours.
		if err := goleak.Find(
			goleak.IgnoreAnyFunction("github.com/redis/rueidis.(*clusterClient)._refresh.func2"),
			goleak.IgnoreAnyFunction("github.com/redis/rueidis.(*call).DelayDo.func1"),
		); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func newClient(t testing.TB) rueidis.Client {
	t.Helper()
	c, err := testCluster.Client()
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func newStore(t *testing.T) storage.Store {
	st, err := redisstore.New(redisstore.Config{Client: newClient(t), Prefix: rediscluster.UniquePrefix(t)})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	return st
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, newStore)
}

// TestConformanceStandalone runs the suite on a single Redis server too:
// the store works the same without a cluster.
func TestConformanceStandalone(t *testing.T) {
	single, err := rediscluster.StartStandalone(t.Context(), rediscluster.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, single.Close()) })
	storagetest.Run(t, func(t *testing.T) storage.Store {
		c, err := single.Client()
		require.NoError(t, err)
		t.Cleanup(c.Close)
		st, err := redisstore.New(redisstore.Config{Client: c, Prefix: rediscluster.UniquePrefix(t)})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, st.Close()) })
		return st
	})
}
