// Package streamcluster starts a Streamcluster cluster in containers for
// integration tests, in the shape of testcontainers-go's modules: a real
// Redis Cluster (3 masters + 3 replicas) and N Streamcluster nodes, on an
// internal "backend" network (nodes and Redis; nodes never talk to each
// other) and a "front" network where each node publishes its clients' port.
//
//	c, err := streamcluster.Run(ctx, "streamcluster/streamcluster:latest",
//		streamcluster.WithNodes(3), streamcluster.WithMinimumNodes(2))
//	defer c.Terminate(context.Background())
//	u, err := c.HTTPURL(ctx, 0)     // http://127.0.0.1:<port>
//
// Run returns once every node answers 200 on /_ready. Fault helpers cut
// what a user's failover tests need: Stop (SIGTERM, graceful leave), Kill
// (SIGKILL), Restart, Disconnect and Reconnect (network cut from Redis).
//
// The module lives in its own Go module so that the product's dependency
// graph does not carry testcontainers-go. It needs a Docker API: Docker, or
// podman's `podman system service` (see containers/ in the repository for
// a podman setup, with TESTCONTAINERS_RYUK_DISABLED=true and
// TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1).
package streamcluster
