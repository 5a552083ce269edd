// Package rediscluster starts real Redis servers from the redis-server
// binary for development and tests: a Redis Cluster of three masters and
// three replicas on free loopback ports, or one standalone server.
//
// Streamcluster's tests never mock Redis. A test package starts one cluster
// in TestMain and gives every test its own key prefix:
//
//	var testCluster *rediscluster.Cluster
//
//	func TestMain(m *testing.M) { os.Exit(rediscluster.RunTests(m, &testCluster)) }
//
//	func TestSomething(t *testing.T) {
//		prefix := rediscluster.UniquePrefix(t)
//		...
//	}
//
// The Cluster value can stop, kill, pause, restart and fail over single
// processes, so tests can exercise failover and partitions for real.
//
// The shell scripts beside this package (up.sh, down.sh) run the fixed
// development cluster on 127.0.0.1:7001-7006 used by `make run`.
package rediscluster
