// Package nodetest holds the multi-process tests of cluster membership:
// each test starts several `streamcluster serve` processes (built once in
// TestMain) against a real local Redis Cluster and checks join, readiness,
// eviction, rejoin, failover, graceful leave and reset through the health
// API, the way an operator would.
package nodetest
