package consumer

import (
	"errors"
	"fmt"
	"time"
)

// Defaults of Config.
const (
	// DefaultCount is the COUNT of one XREADGROUP or XAUTOCLAIM: the
	// largest batch handed to the handler.
	DefaultCount = 256
	// DefaultBlock is how long one XREADGROUP blocks waiting for new
	// entries. Cancelling Run's context interrupts it at once, so it only
	// bounds how late a reclaim pass may run.
	DefaultBlock = 2 * time.Second
	// DefaultClaimMinIdle is how long an entry must stay pending (delivered,
	// not acknowledged) before another consumer may take it over.
	DefaultClaimMinIdle = 30 * time.Second
	// DefaultClaimInterval is the period of the reclaim pass.
	DefaultClaimInterval = 5 * time.Second
	// DefaultStart is where a new group starts: "$", only entries appended
	// after the group is created.
	DefaultStart = "$"
	// DefaultRecreateStart is where a group recreated after NOGROUP starts:
	// "0", every entry still in the stream, since the entries appended
	// while the group was missing were never read.
	DefaultRecreateStart = "0"
	// DefaultBackoffMin and DefaultBackoffMax bound the wait after a Redis
	// or handler error; it doubles after each consecutive error, is capped
	// at the max, and a random part (up to half) is taken off as jitter.
	DefaultBackoffMin = 50 * time.Millisecond
	DefaultBackoffMax = 2 * time.Second
	// DefaultMaxAttempts is how many times one entry may fail in the
	// handler (a non-poison error) on this reader before it is treated as
	// poison.
	DefaultMaxAttempts = 10
	// DefaultDeadLetterMaxLen is the approximate cap of the dead-letter
	// stream.
	DefaultDeadLetterMaxLen = 10000
	// DefaultFlushTimeout bounds the final XACK after Run's context ends.
	DefaultFlushTimeout = 2 * time.Second

	// NoClaim, as Config.ClaimMinIdle, disables the reclaim pass.
	NoClaim time.Duration = -1
)

// ErrInvalidConfig is returned by Config.Validate and New.
var ErrInvalidConfig = errors.New("consumer: invalid config")

// Config configures a Reader. The zero value of every optional field means
// its default; New never modifies the caller's copy.
type Config struct {
	// Stream is the stream key to read. Required.
	Stream string
	// Group is the consumer group name (the node id for the control
	// stream). Required.
	Group string
	// Consumer is this reader's name inside the group. Keep it stable
	// across restarts of the same process identity, so the reader finds
	// its own pending entries again. Required.
	Consumer string
	// Count is the largest batch read at once (default DefaultCount).
	Count int64
	// Block is how long one XREADGROUP waits for new entries (default
	// DefaultBlock, at least 1 ms).
	Block time.Duration
	// ClaimMinIdle is the idle time after which another consumer's pending
	// entries are taken over (default DefaultClaimMinIdle; NoClaim
	// disables reclaiming). Keep it above the handler's worst-case time
	// for one batch, or live consumers lose entries to each other.
	ClaimMinIdle time.Duration
	// ClaimInterval is the period of the reclaim pass (default
	// DefaultClaimInterval).
	ClaimInterval time.Duration
	// DeadLetter, when set, is a stream that receives a copy of every
	// poison entry (its fields plus "x-id", "x-stream" and "x-reason").
	DeadLetter string
	// DeadLetterMaxLen caps the dead-letter stream (MAXLEN ~, default
	// DefaultDeadLetterMaxLen).
	DeadLetterMaxLen int64
	// Start is the id a new group starts from: "$" (default: new entries
	// only), "0" (everything in the stream) or an entry id.
	Start string
	// RecreateStart is the id a group recreated after NOGROUP starts from
	// (default DefaultRecreateStart).
	RecreateStart string
	// BackoffMin and BackoffMax bound the wait after an error (defaults
	// DefaultBackoffMin and DefaultBackoffMax).
	BackoffMin, BackoffMax time.Duration
	// MaxAttempts is how many handler failures of one entry this reader
	// tolerates before the entry is poison (default DefaultMaxAttempts).
	MaxAttempts int
	// FlushTimeout bounds the final XACK when Run's context ends (default
	// DefaultFlushTimeout).
	FlushTimeout time.Duration
	// NoAck reads with XREADGROUP … NOACK: Redis keeps no pending list, so
	// there is nothing to acknowledge, re-read or reclaim (ClaimMinIdle is
	// ignored) and Stats.Acked stays 0. A transient handler error retries
	// the batch from memory (up to MaxAttempts, with backoff). An entry is
	// lost if the process dies while handling it: use it for streams whose
	// reader recovers by other means (an inbox whose clients die with the
	// node, a control stream replayed from the snapshot on rejoin). It
	// saves the pending-list bookkeeping in Redis (about 1/3 of the
	// throughput of one shard, see BenchmarkThroughput).
	NoAck bool
}

func (c Config) withDefaults() Config {
	if c.Count == 0 {
		c.Count = DefaultCount
	}
	if c.Block == 0 {
		c.Block = DefaultBlock
	}
	if c.ClaimMinIdle == 0 {
		c.ClaimMinIdle = DefaultClaimMinIdle
	}
	if c.ClaimInterval == 0 {
		c.ClaimInterval = DefaultClaimInterval
	}
	if c.DeadLetterMaxLen == 0 {
		c.DeadLetterMaxLen = DefaultDeadLetterMaxLen
	}
	if c.Start == "" {
		c.Start = DefaultStart
	}
	if c.RecreateStart == "" {
		c.RecreateStart = DefaultRecreateStart
	}
	if c.BackoffMin == 0 {
		c.BackoffMin = DefaultBackoffMin
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = DefaultBackoffMax
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.FlushTimeout == 0 {
		c.FlushTimeout = DefaultFlushTimeout
	}
	return c
}

// Validate reports the first invalid field, after defaults are applied.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.Stream == "":
		return fmt.Errorf("%w: empty stream", ErrInvalidConfig)
	case c.Group == "":
		return fmt.Errorf("%w: empty group", ErrInvalidConfig)
	case c.Consumer == "":
		return fmt.Errorf("%w: empty consumer", ErrInvalidConfig)
	case c.Count < 0:
		return fmt.Errorf("%w: count %d is negative", ErrInvalidConfig, c.Count)
	case c.Block < time.Millisecond:
		return fmt.Errorf("%w: block %v is below 1ms", ErrInvalidConfig, c.Block)
	case c.ClaimMinIdle < 0 && c.ClaimMinIdle != NoClaim:
		return fmt.Errorf("%w: claim min idle %v: use a positive value or NoClaim", ErrInvalidConfig, c.ClaimMinIdle)
	case c.ClaimInterval < 0:
		return fmt.Errorf("%w: claim interval %v is negative", ErrInvalidConfig, c.ClaimInterval)
	case c.DeadLetterMaxLen < 0:
		return fmt.Errorf("%w: dead-letter max length %d is negative", ErrInvalidConfig, c.DeadLetterMaxLen)
	case c.DeadLetter == c.Stream:
		return fmt.Errorf("%w: the dead-letter stream is the stream itself", ErrInvalidConfig)
	case c.BackoffMin < 0 || c.BackoffMax < c.BackoffMin:
		return fmt.Errorf("%w: backoff bounds %v..%v", ErrInvalidConfig, c.BackoffMin, c.BackoffMax)
	case c.MaxAttempts < 0:
		return fmt.Errorf("%w: max attempts %d is negative", ErrInvalidConfig, c.MaxAttempts)
	case c.FlushTimeout < 0:
		return fmt.Errorf("%w: flush timeout %v is negative", ErrInvalidConfig, c.FlushTimeout)
	}
	return nil
}
