package node

import (
	"errors"
	"strings"

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

// isNoGroup reports whether err is Redis' NOGROUP error (the consumer
// group or its stream does not exist). rueidis has no predicate for it, so
// this is the one place that looks at the error's prefix.
func isNoGroup(err error) bool {
	rerr, ok := rueidis.IsRedisErr(err)
	return ok && strings.HasPrefix(rerr.Error(), "NOGROUP")
}
