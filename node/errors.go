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
	// ErrCrossSlot is returned by Mutate for a key outside the control
	// plane's hash tag (streams.Keys.Tag): the script could not run atomically.
	ErrCrossSlot = errors.New("node: key outside the control-plane hash tag")
	// ErrSecretMismatch is returned by a join refused because the live
	// members use another Config.Secret (or none while this node has one,
	// or the reverse): their entries and this node's would reject each
	// other.
	ErrSecretMismatch = errors.New("node: this node's secret differs from the live members' (Config.Secret, SC_SECRET)")
	// ErrRunning is returned by Run when it is called twice, and by Handle
	// and OnSync after Run started.
	ErrRunning = errors.New("node: already running")
)

// replyKind classifies an error of a control-stream read.
type replyKind int

const (
	outage    replyKind = iota // Redis unreachable or unable to serve: retry, evict nobody
	unblocked                  // UNBLOCKED: a failover or a deleted stream interrupted the read: retry
	groupLost                  // NOGROUP or another reply about our keys: resync
)

// classify tells an outage (network error, timeout, cluster down, failover
// in progress) from a Redis reply about our keys. rueidis has no predicate
// for NOGROUP and UNBLOCKED, so this is the one place that looks at a
// RedisError's prefix.
func classify(err error) replyKind {
	rerr, ok := rueidis.IsRedisErr(err)
	switch {
	case !ok, rerr.IsClusterDown(), rerr.IsTryAgain(), rerr.IsLoading():
		return outage
	case strings.HasPrefix(rerr.Error(), "UNBLOCKED"):
		return unblocked
	}
	return groupLost
}
