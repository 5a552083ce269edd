package streams_test

import (
	"os"
	"testing"

	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
)

var testCluster *rediscluster.Cluster

func TestMain(m *testing.M) { os.Exit(rediscluster.RunTests(m, &testCluster)) }
