package consumer

import (
	"errors"
	"strings"

	"github.com/redis/rueidis"
)

var (
	// ErrPoison marks entries a handler can never process. A handler
	// returns it (or an error wrapping it) to have its whole batch
	// acknowledged and counted as poison; Poison narrows it to some
	// entries.
	ErrPoison = errors.New("consumer: poison entry")
	// ErrAlreadyRunning is returned by Run when the Reader is already
	// running.
	ErrAlreadyRunning = errors.New("consumer: reader already running")
)

// PoisonError is returned by a handler to declare some entries of its batch
// poison: those are acknowledged, counted and dead-lettered, and the rest
// of the batch counts as handled and is acknowledged too. It wraps
// ErrPoison and the cause.
type PoisonError struct {
	// IDs are the poison entries' ids; empty means the whole batch.
	IDs []string
	// Err is the cause, kept in the dead-letter copy.
	Err error
}

// Poison returns a *PoisonError for the given entry ids (none: the whole
// batch) with cause err.
func Poison(err error, ids ...string) error {
	return &PoisonError{IDs: ids, Err: err}
}

func (e *PoisonError) Error() string {
	if e.Err == nil {
		return ErrPoison.Error()
	}
	return ErrPoison.Error() + ": " + e.Err.Error()
}

// Unwrap returns ErrPoison and the cause.
func (e *PoisonError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrPoison}
	}
	return []error{ErrPoison, e.Err}
}

// isNoGroup tells whether err is Redis' NOGROUP error (the group or the
// stream does not exist). rueidis has a predicate for BUSYGROUP but none
// for NOGROUP, so this is the one place that looks at the error prefix:
// Redis error replies start with an upper-case code by protocol.
func isNoGroup(err error) bool {
	rerr, ok := rueidis.IsRedisErr(err)
	return ok && strings.HasPrefix(rerr.Error(), "NOGROUP")
}
