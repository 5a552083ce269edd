package rediscluster

import "errors"

// ErrNoRedisServer is returned when the redis-server binary cannot be found.
var ErrNoRedisServer = errors.New("rediscluster: redis-server not found in PATH (install it with: apt-get install -y redis-server)")

// ErrNotCluster is returned by cluster-only operations on a standalone server.
var ErrNotCluster = errors.New("rediscluster: not a cluster")

// ErrBadIndex is returned when a process index is out of range.
var ErrBadIndex = errors.New("rediscluster: no process with that index")
