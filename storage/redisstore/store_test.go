package redisstore_test

import (
	"os"
	"testing"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
	"github.com/streamcluster/streamcluster/storage"
	"github.com/streamcluster/streamcluster/storage/redisstore"
	"github.com/streamcluster/streamcluster/storage/storagetest"
)

var testCluster *rediscluster.Cluster

func TestMain(m *testing.M) { os.Exit(rediscluster.RunTests(m, &testCluster)) }

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
