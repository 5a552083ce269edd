package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/streamcluster/streamcluster/streams"
)

// Message is one decoded stream entry.
type Message struct {
	// ID is the stream entry id.
	ID string
	// Envelope is the decoded entry.
	Envelope streams.Envelope
}

// Handler processes one batch of messages, in stream order (entries taken
// over from another consumer come in their own batches).
//
// Concurrency contract: a Reader calls its handler from the goroutine that
// runs Run, one batch at a time, never concurrently. The handler may keep
// the batch slice and the messages. It should return promptly when ctx
// ends; while it runs no new entry is read and nothing is acknowledged.
//
// Return values:
//   - nil: every message is handled; the batch is acknowledged.
//   - an error wrapping ErrPoison (see Poison and PoisonError): the named
//     messages (all when none is named) can never be handled; they are
//     acknowledged, counted as poison and dead-lettered, and the others
//     are acknowledged as handled.
//   - any other error: a transient failure. Nothing of the batch is
//     acknowledged; the reader backs off and hands the same entries again
//     (re-read from its pending list). An entry that failed MaxAttempts
//     times on this reader becomes poison. If the reader dies meanwhile,
//     another consumer of the group reclaims the entries after
//     ClaimMinIdle.
//   - the context's error after ctx ended: nothing is acknowledged and Run
//     returns; the entries stay pending for the next run or another
//     consumer.
type Handler func(ctx context.Context, batch []Message) error

// Stats are a Reader's counters since New. All are monotonic.
type Stats struct {
	// Read counts entries received (new, re-read pending and reclaimed).
	Read uint64
	// Acked counts entries acknowledged.
	Acked uint64
	// Poison counts entries acknowledged without being handled: malformed,
	// badly signed, declared poison by the handler, or failed MaxAttempts
	// times.
	Poison uint64
	// Reclaimed counts entries taken over from other consumers.
	Reclaimed uint64
	// Errors counts failed Redis calls and transient handler errors.
	Errors uint64
}

// Reader reads one stream through one consumer group. Build it with New,
// run it with Run.
type Reader struct {
	client  rueidis.Client
	codec   *streams.Codec
	cfg     Config
	handler Handler
	log     *slog.Logger

	running atomic.Bool

	read, acked, poison, reclaimed, errs atomic.Uint64

	// Owned by the goroutine in Run.
	acks     []string       // handled ids not yet acknowledged
	attempts map[string]int // handler failures per pending id
	failures int            // consecutive errors, for the backoff
}

// New returns a Reader; it does no I/O. logger may be nil (no logging).
func New(client rueidis.Client, codec *streams.Codec, cfg Config, h Handler, logger *slog.Logger) (*Reader, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if client == nil || codec == nil || h == nil {
		return nil, fmt.Errorf("%w: client, codec and handler are required", ErrInvalidConfig)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Reader{
		client:   client,
		codec:    codec,
		cfg:      cfg.withDefaults(),
		handler:  h,
		log:      logger.With(slog.String("stream", cfg.Stream), slog.String("group", cfg.Group), slog.String("consumer", cfg.Consumer)),
		attempts: map[string]int{},
	}, nil
}

// Stats returns the counters. Safe for concurrent use.
func (r *Reader) Stats() Stats {
	return Stats{
		Read:      r.read.Load(),
		Acked:     r.acked.Load(),
		Poison:    r.poison.Load(),
		Reclaimed: r.reclaimed.Load(),
		Errors:    r.errs.Load(),
	}
}

// Run reads and handles entries until ctx ends, then acknowledges what it
// owes (bounded by FlushTimeout) and returns nil. It starts no goroutine:
// the handler runs in the caller's goroutine. Redis errors never stop it;
// they are logged, counted and retried with backoff. A Reader runs at most
// once at a time (ErrAlreadyRunning); it may be run again after Run
// returned.
func (r *Reader) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	defer r.running.Store(false)
	defer r.flush(ctx)

	start := r.cfg.Start
	needGroup, history := true, !r.cfg.NoAck
	cursor := "0-0"
	var nextClaim time.Time
	if r.cfg.ClaimMinIdle != NoClaim && !r.cfg.NoAck {
		nextClaim = time.Now() // a restarted node takes over its dead peers' entries at once
	}
	for ctx.Err() == nil {
		if needGroup {
			if err := r.createGroup(ctx, start); err != nil {
				r.fail(ctx, "create group", err)
				continue
			}
			needGroup, history, cursor = false, !r.cfg.NoAck, "0-0"
			clear(r.attempts) // a recreated group has no pending entries
		}

		var (
			entries []rueidis.XRangeEntry
			claimed bool
			err     error
		)
		now := time.Now()
		switch {
		case !nextClaim.IsZero() && !now.Before(nextClaim):
			claimed = true
			entries, cursor, err = r.claim(ctx, cursor)
			if err == nil && cursor == "0-0" {
				nextClaim = now.Add(r.cfg.ClaimInterval)
			}
		case history:
			entries, err = r.readGroup(ctx, "0", 0)
			if err == nil && len(entries) == 0 {
				history = false
			}
		default:
			block := r.cfg.Block
			if !nextClaim.IsZero() {
				block = min(block, max(time.Millisecond, nextClaim.Sub(now)))
			}
			entries, err = r.readGroup(ctx, ">", block)
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if isNoGroup(err) {
				r.log.Warn("consumer group missing, recreating it", slog.String("start", r.cfg.RecreateStart))
				needGroup, start = true, r.cfg.RecreateStart
				r.errs.Add(1)
				continue
			}
			r.fail(ctx, "read", err)
			continue
		}
		r.failures = 0
		if len(entries) == 0 {
			continue
		}
		r.read.Add(uint64(len(entries)))
		if claimed {
			r.reclaimed.Add(uint64(len(entries)))
		}
		if retry := r.process(ctx, entries); retry {
			history = true
		}
	}
	return nil
}

// process decodes a batch, runs the handler and queues the acks. It
// returns true when entries were left pending for a retry.
func (r *Reader) process(ctx context.Context, entries []rueidis.XRangeEntry) (retry bool) {
	batch := make([]Message, 0, len(entries))
	var poison []poisonEntry
	for _, en := range entries {
		env, err := r.codec.Decode(en.FieldValues)
		if err != nil {
			poison = append(poison, poisonEntry{entry: en, reason: err.Error()})
			continue
		}
		batch = append(batch, Message{ID: en.ID, Envelope: env})
	}
	defer func() { r.settlePoison(ctx, poison) }()
	for attempt := 1; len(batch) > 0; attempt++ {
		err := r.handler(ctx, batch)
		switch {
		case err == nil:
			r.queueAcks(batch)
			return false
		case errors.Is(err, ErrPoison):
			poison = append(poison, r.poisoned(batch, entries, err)...)
			return false
		case ctx.Err() != nil:
			// Shutting down: leave the batch pending.
			return false
		}
		r.errs.Add(1)
		r.log.Warn("handler failed", slog.Int("entries", len(batch)), slog.Any("error", err))
		if r.cfg.NoAck {
			// Nothing is pending in Redis: retry the batch from memory.
			if attempt >= r.cfg.MaxAttempts {
				poison = append(poison, r.exhausted(batch, entries, err)...)
				return false
			}
			r.sleep(ctx, attempt)
			if ctx.Err() != nil {
				return false
			}
			continue
		}
		// The entries stay pending; Run re-reads them after the backoff.
		worst := 0
		var failed []Message
		for _, m := range batch {
			r.attempts[m.ID]++
			if r.attempts[m.ID] >= r.cfg.MaxAttempts {
				failed = append(failed, m)
				continue
			}
			worst = max(worst, r.attempts[m.ID])
		}
		poison = append(poison, r.exhausted(failed, entries, err)...)
		if worst > 0 {
			r.sleep(ctx, worst)
			return true
		}
		return false
	}
	return false
}

// exhausted turns messages that failed MaxAttempts times into poison.
func (r *Reader) exhausted(failed []Message, entries []rueidis.XRangeEntry, err error) []poisonEntry {
	if len(failed) == 0 {
		return nil
	}
	byID := make(map[string]rueidis.XRangeEntry, len(entries))
	for _, en := range entries {
		byID[en.ID] = en
	}
	out := make([]poisonEntry, 0, len(failed))
	for _, m := range failed {
		out = append(out, poisonEntry{entry: byID[m.ID], reason: "failed " + strconv.Itoa(r.cfg.MaxAttempts) + " times: " + err.Error()})
	}
	return out
}

type poisonEntry struct {
	entry  rueidis.XRangeEntry
	reason string
}

// poisoned splits a batch after a poison error: it queues the acks of the
// handled messages and returns the poison ones.
func (r *Reader) poisoned(batch []Message, entries []rueidis.XRangeEntry, err error) []poisonEntry {
	bad := map[string]bool{}
	var pe *PoisonError
	if errors.As(err, &pe) {
		for _, id := range pe.IDs {
			bad[id] = true
		}
	}
	all := len(bad) == 0
	byID := make(map[string]rueidis.XRangeEntry, len(entries))
	for _, en := range entries {
		byID[en.ID] = en
	}
	var out []poisonEntry
	handled := batch[:0:0]
	for _, m := range batch {
		if all || bad[m.ID] {
			out = append(out, poisonEntry{entry: byID[m.ID], reason: err.Error()})
		} else {
			handled = append(handled, m)
		}
	}
	r.queueAcks(handled)
	return out
}

func (r *Reader) queueAcks(batch []Message) {
	if r.cfg.NoAck {
		return
	}
	for _, m := range batch {
		r.acks = append(r.acks, m.ID)
		delete(r.attempts, m.ID)
	}
}

// settlePoison dead-letters (when configured), counts and queues the ack of
// poison entries.
func (r *Reader) settlePoison(ctx context.Context, poison []poisonEntry) {
	if len(poison) == 0 {
		return
	}
	r.poison.Add(uint64(len(poison)))
	for _, p := range poison {
		r.log.Warn("poison entry acknowledged", slog.String("id", p.entry.ID), slog.String("reason", p.reason))
	}
	if r.cfg.DeadLetter != "" {
		cmds := make(rueidis.Commands, 0, len(poison))
		for _, p := range poison {
			c := r.client.B().Xadd().Key(r.cfg.DeadLetter).Maxlen().Almost().
				Threshold(strconv.FormatInt(r.cfg.DeadLetterMaxLen, 10)).Id("*").FieldValue().
				FieldValue("x-id", p.entry.ID).FieldValue("x-stream", r.cfg.Stream).FieldValue("x-reason", p.reason)
			for f, v := range p.entry.FieldValues {
				c = c.FieldValue(f, v)
			}
			cmds = append(cmds, c.Build())
		}
		for i, res := range r.client.DoMulti(context.WithoutCancel(ctx), cmds...) {
			if err := res.Error(); err != nil {
				// Acknowledge anyway: a poison entry must not block the stream.
				r.errs.Add(1)
				r.log.Error("dead-letter copy failed", slog.String("id", poison[i].entry.ID), slog.Any("error", err))
			}
		}
	}
	if r.cfg.NoAck {
		return
	}
	for _, p := range poison {
		r.acks = append(r.acks, p.entry.ID)
		delete(r.attempts, p.entry.ID)
	}
}

func (r *Reader) createGroup(ctx context.Context, start string) error {
	err := r.client.Do(ctx, r.client.B().XgroupCreate().Key(r.cfg.Stream).Group(r.cfg.Group).Id(start).Mkstream().Build()).Error()
	if err != nil && !rueidis.IsRedisBusyGroup(err) {
		return err
	}
	r.log.Debug("consumer group ready", slog.String("start", start), slog.Bool("existed", err != nil))
	return nil
}

// readGroup reads with XREADGROUP (blocking when block > 0), pipelining the
// pending acks in front of it in the same round trip.
func (r *Reader) readGroup(ctx context.Context, id string, block time.Duration) ([]rueidis.XRangeEntry, error) {
	g := r.client.B().Xreadgroup().Group(r.cfg.Group, r.cfg.Consumer).Count(r.cfg.Count)
	var cmd rueidis.Completed
	switch {
	case block > 0 && r.cfg.NoAck:
		cmd = g.Block(block.Milliseconds()).Noack().Streams().Key(r.cfg.Stream).Id(id).Build()
	case block > 0:
		cmd = g.Block(block.Milliseconds()).Streams().Key(r.cfg.Stream).Id(id).Build()
	default:
		cmd = g.Streams().Key(r.cfg.Stream).Id(id).Build()
	}
	res, err := r.doWithAcks(ctx, cmd)
	if rueidis.IsRedisNil(err) {
		return nil, nil // BLOCK timed out
	}
	if err != nil {
		return nil, err
	}
	byStream, err := res.AsXRead()
	if err != nil {
		return nil, err
	}
	return byStream[r.cfg.Stream], nil
}

// claim runs one XAUTOCLAIM step from cursor and returns the next cursor.
func (r *Reader) claim(ctx context.Context, cursor string) ([]rueidis.XRangeEntry, string, error) {
	cmd := r.client.B().Xautoclaim().Key(r.cfg.Stream).Group(r.cfg.Group).Consumer(r.cfg.Consumer).
		MinIdleTime(strconv.FormatInt(r.cfg.ClaimMinIdle.Milliseconds(), 10)).Start(cursor).Count(r.cfg.Count).Build()
	res, err := r.doWithAcks(ctx, cmd)
	if err != nil {
		return nil, cursor, err
	}
	arr, err := res.ToArray()
	if err != nil {
		return nil, cursor, err
	}
	if len(arr) < 2 {
		return nil, cursor, fmt.Errorf("consumer: XAUTOCLAIM returned %d elements", len(arr))
	}
	next, err := arr[0].ToString()
	if err != nil {
		return nil, cursor, err
	}
	entries, err := arr[1].AsXRange()
	if err != nil {
		return nil, cursor, err
	}
	return entries, next, nil
}

// doWithAcks sends cmd, preceded by one XACK of every pending ack in the
// same pipeline (same key, so same shard). Acks that fail are kept for the
// next call, except after NOGROUP: the group and its pending list are gone.
func (r *Reader) doWithAcks(ctx context.Context, cmd rueidis.Completed) (rueidis.RedisMessage, error) {
	if len(r.acks) == 0 {
		return r.client.Do(ctx, cmd).ToMessage()
	}
	ack := r.client.B().Xack().Key(r.cfg.Stream).Group(r.cfg.Group).Id(r.acks...).Build()
	res := r.client.DoMulti(ctx, ack, cmd)
	r.ackResult(ctx, res[0])
	return res[1].ToMessage()
}

func (r *Reader) ackResult(ctx context.Context, res rueidis.RedisResult) {
	// Ids that were already acknowledged (or trimmed away) count too: XACK
	// is idempotent and the reader owes nothing more for them.
	switch err := res.Error(); {
	case err == nil:
		r.acked.Add(uint64(len(r.acks)))
		r.acks = r.acks[:0]
	case isNoGroup(err):
		r.acks = r.acks[:0]
	case ctx.Err() != nil:
		// Shutting down: flush retries with its own deadline.
	default:
		r.errs.Add(1)
		r.log.Warn("ack failed, will retry", slog.Int("entries", len(r.acks)), slog.Any("error", err))
	}
}

// flush acknowledges what Run owes after ctx ended.
func (r *Reader) flush(ctx context.Context) {
	if len(r.acks) == 0 {
		return
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.FlushTimeout)
	defer cancel()
	r.ackResult(fctx, r.client.Do(fctx, r.client.B().Xack().Key(r.cfg.Stream).Group(r.cfg.Group).Id(r.acks...).Build()))
}

// fail logs and counts a Redis error and waits before the next attempt.
func (r *Reader) fail(ctx context.Context, op string, err error) {
	if ctx.Err() != nil {
		return
	}
	r.errs.Add(1)
	r.failures++
	r.log.Warn("redis call failed, backing off", slog.String("op", op), slog.Int("failures", r.failures), slog.Any("error", err))
	r.sleep(ctx, r.failures)
}

// sleep waits the backoff after n consecutive failures, or until ctx ends.
func (r *Reader) sleep(ctx context.Context, n int) {
	t := time.NewTimer(backoff(r.cfg.BackoffMin, r.cfg.BackoffMax, n))
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// backoff returns the wait after n consecutive failures (n >= 1): d =
// lo×2^(n-1) capped at hi, then drawn uniformly in [d/2, d] so that readers
// failing together do not retry in lockstep.
func backoff(lo, hi time.Duration, n int) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	if d <= 0 {
		return time.Millisecond
	}
	return d/2 + rand.N(d/2+1)
}
