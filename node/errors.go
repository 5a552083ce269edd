package node

import (
	"errors"

	"github.com/redis/rueidis"
)

var (
	// ErrFenced is returned when this node is not a current member with its
	// current incarnation (it was evicted, or the cluster was reset): its
	// mutations are refused until it rejoins.
	ErrFenced = errors.New("node: fenced: not a current member")
	// ErrJoinFailed is returned by Run when the first join failed
	// Config.RetryJoin times.
	ErrJoinFailed = errors.New("node: join failed")
	// ErrNotRunning is returned by Mutate before the first join.
	ErrNotRunning = errors.New("node: not running")
	// ErrRunning is returned by Run when it is called twice, and by Handle
	// and OnSync after Run started.
	ErrRunning = errors.New("node: already running")
)

// isOutage reports whether err means Redis is unreachable or unable to
// serve (network error, timeout, cluster down, failover in progress), as
// opposed to a Redis reply about our keys (NOGROUP, UNBLOCKED after the
// stream was deleted), which means the control plane changed under us.
func isOutage(err error) bool {
	rerr, ok := rueidis.IsRedisErr(err)
	if !ok {
		return true
	}
	return rerr.IsClusterDown() || rerr.IsTryAgain() || rerr.IsLoading()
}
