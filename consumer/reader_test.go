package consumer_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/streamcluster/streamcluster/consumer"
	"github.com/streamcluster/streamcluster/streams"
)

func TestConfigValidate(t *testing.T) {
	ok := consumer.Config{Stream: "s", Group: "g", Consumer: "c"}
	require.NoError(t, ok.Validate())
	for desc, mut := range map[string]func(*consumer.Config){
		"stream":     func(c *consumer.Config) { c.Stream = "" },
		"group":      func(c *consumer.Config) { c.Group = "" },
		"consumer":   func(c *consumer.Config) { c.Consumer = "" },
		"count":      func(c *consumer.Config) { c.Count = -1 },
		"block":      func(c *consumer.Config) { c.Block = time.Microsecond },
		"claim idle": func(c *consumer.Config) { c.ClaimMinIdle = -5 },
		"dead":       func(c *consumer.Config) { c.DeadLetter = "s" },
		"backoff":    func(c *consumer.Config) { c.BackoffMin, c.BackoffMax = time.Second, time.Millisecond },
		"attempts":   func(c *consumer.Config) { c.MaxAttempts = -1 },
	} {
		c := ok
		mut(&c)
		require.ErrorIs(t, c.Validate(), consumer.ErrInvalidConfig, desc)
		_, err := consumer.New(nil, nil, c, nil, nil)
		require.ErrorIs(t, err, consumer.ErrInvalidConfig, desc)
	}
}

func TestDeliversInOrderAndAcknowledges(t *testing.T) {
	ctx := testCtx(t)
	e := newEnv(t, nil)
	stream := e.keys.Inbox("n1")
	var c collector
	r, err := consumer.New(e.client, e.codec, fastConfig(stream, "n1", "n1"), func(_ context.Context, b []consumer.Message) error {
		c.add(b)
		return nil
	}, testLogger(t))
	require.NoError(t, err)
	running(t, r)

	appendN(t, ctx, e, stream, 1, 1000, "T")
	require.Eventually(t, func() bool { return c.len() >= 1000 }, 20*time.Second, 10*time.Millisecond)
	require.Equal(t, seqRange(1, 1000), c.seqs())
	require.Eventually(t, func() bool { return r.Stats().Acked == 1000 }, 10*time.Second, 10*time.Millisecond)

	// Acks are pipelined with the next read; once they are in, nothing is
	// pending and nothing is left to deliver.
	lag, pending, found, err := consumer.Lag(ctx, e.client, stream, "n1")
	require.NoError(t, err)
	require.True(t, found)
	require.Zero(t, pending)
	require.Zero(t, lag)
	require.Equal(t, consumer.Stats{Read: 1000, Acked: 1000}, r.Stats())

	// A second Run at the same time is refused.
	require.ErrorIs(t, r.Run(ctx), consumer.ErrAlreadyRunning)
}

func TestPoisonEntriesAreAckedCountedAndDoNotBlock(t *testing.T) {
	ctx := testCtx(t)
	e := newEnv(t, []byte("0123456789abcdef-secret"))
	stream := e.keys.Inbox("n1")
	dead := e.keys.DeadLetter(stream)

	// 1, 2 good; a malformed entry; an unsigned one; 3 good; "Bad" (the
	// handler says poison); 4 good.
	appendN(t, ctx, e, stream, 1, 2, "T")
	mac := hmac.New(sha256.New, []byte("0123456789abcdef-secret"))
	mac.Write([]byte("\x01garbage"))
	require.NoError(t, e.client.Do(ctx, e.client.B().Xadd().Key(stream).Id("*").FieldValue().
		FieldValue("e", "\x01garbage").FieldValue("s", string(mac.Sum(nil))).Build()).Error())
	unsigned, err := streams.NewCodec(nil).Encode(streams.Envelope{Type: "T", Sender: "intruder", Seq: 99})
	require.NoError(t, err)
	require.NoError(t, e.client.Do(ctx, e.client.B().Xadd().Key(stream).Id("*").FieldValue().FieldValue("e", unsigned.Blob).Build()).Error())
	appendN(t, ctx, e, stream, 3, 1, "T")
	appendN(t, ctx, e, stream, 100, 1, "Bad")
	appendN(t, ctx, e, stream, 4, 1, "T")

	var c collector
	cfg := fastConfig(stream, "n1", "n1")
	cfg.DeadLetter = dead
	r, err := consumer.New(e.client, e.codec, cfg, func(_ context.Context, b []consumer.Message) error {
		var bad []string
		var good []consumer.Message
		for _, m := range b {
			if m.Envelope.Type == "Bad" {
				bad = append(bad, m.ID)
			} else {
				good = append(good, m)
			}
		}
		c.add(good)
		if len(bad) > 0 {
			return consumer.Poison(errors.New("cannot handle Bad"), bad...)
		}
		return nil
	}, testLogger(t))
	require.NoError(t, err)
	running(t, r)

	require.Eventually(t, func() bool { return c.len() >= 4 }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, []uint64{1, 2, 3, 4}, c.seqs())
	require.Eventually(t, func() bool { return r.Stats().Acked == 7 }, 10*time.Second, 10*time.Millisecond)
	st := r.Stats()
	require.Equal(t, uint64(3), st.Poison)
	require.Equal(t, uint64(7), st.Read)
	require.Equal(t, streams.RejectStats{Malformed: 1, Unsigned: 1}, e.codec.Rejected())

	_, pending, _, err := consumer.Lag(ctx, e.client, stream, "n1")
	require.NoError(t, err)
	require.Zero(t, pending)

	deadEntries, err := e.client.Do(ctx, e.client.B().Xrange().Key(dead).Start("-").End("+").Build()).AsXRange()
	require.NoError(t, err)
	require.Len(t, deadEntries, 3)
	require.Equal(t, "\x01garbage", deadEntries[0].FieldValues["e"])
	require.Contains(t, deadEntries[0].FieldValues["x-reason"], "malformed")
	require.Contains(t, deadEntries[1].FieldValues["x-reason"], "unsigned")
	require.Contains(t, deadEntries[2].FieldValues["x-reason"], "cannot handle Bad")
	require.Equal(t, stream, deadEntries[2].FieldValues["x-stream"])
	require.NotEmpty(t, deadEntries[2].FieldValues["x-id"])
}

func TestHandlerErrorRetriesThenPoison(t *testing.T) {
	ctx := testCtx(t)
	e := newEnv(t, nil)
	stream := e.keys.Inbox("n1")
	appendN(t, ctx, e, stream, 1, 3, "T")
	appendN(t, ctx, e, stream, 4, 1, "Never")
	appendN(t, ctx, e, stream, 5, 2, "T")

	var calls atomic.Int64
	var c collector
	cfg := fastConfig(stream, "n1", "n1")
	cfg.MaxAttempts = 3
	cfg.Count = 2
	r, err := consumer.New(e.client, e.codec, cfg, func(_ context.Context, b []consumer.Message) error {
		// The first two calls fail (transient); "Never" always fails.
		if calls.Add(1) <= 2 {
			return errors.New("transient")
		}
		for _, m := range b {
			if m.Envelope.Type == "Never" {
				return errors.New("never works")
			}
		}
		c.add(b)
		return nil
	}, testLogger(t))
	require.NoError(t, err)
	running(t, r)

	// 1,2 fail twice then pass; 3 goes with 4 ("Never") in one batch: the
	// batch fails until 3 and 4 both reach MaxAttempts, so both become
	// poison (the reader cannot tell which entry of a failing batch is
	// bad); 5 and 6 pass.
	require.Eventually(t, func() bool { return r.Stats().Acked == 6 }, 20*time.Second, 10*time.Millisecond)
	require.Equal(t, []uint64{1, 2, 5, 6}, c.seqs())
	st := r.Stats()
	require.Equal(t, uint64(2), st.Poison)
	require.GreaterOrEqual(t, st.Errors, uint64(5))
}

func TestReclaimsKilledConsumersPendingEntries(t *testing.T) {
	ctx := testCtx(t)
	e := newEnv(t, nil)
	stream := e.keys.Control()

	// Consumer "a" takes the entries and dies before acknowledging them:
	// its handler only returns when its context is cancelled.
	got := make(chan int, 1)
	a, err := consumer.New(e.client, e.codec, fastConfig(stream, "g", "a"), func(ctx context.Context, b []consumer.Message) error {
		got <- len(b)
		<-ctx.Done()
		return ctx.Err()
	}, testLogger(t))
	require.NoError(t, err)
	stopA := running(t, a)
	appendN(t, ctx, e, stream, 1, 50, "T")
	require.Equal(t, 50, <-got)
	stopA()
	require.Zero(t, a.Stats().Acked)

	_, pending, _, err := consumer.Lag(ctx, e.client, stream, "g")
	require.NoError(t, err)
	require.Equal(t, int64(50), pending)

	var c collector
	cfg := fastConfig(stream, "g", "b")
	cfg.ClaimMinIdle = 300 * time.Millisecond
	b, err := consumer.New(e.client, e.codec, cfg, func(_ context.Context, batch []consumer.Message) error {
		c.add(batch)
		return nil
	}, testLogger(t))
	require.NoError(t, err)
	running(t, b)
	require.Eventually(t, func() bool { return b.Stats().Acked == 50 }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, seqRange(1, 50), c.seqs())
	require.Equal(t, uint64(50), b.Stats().Reclaimed)
	_, pending, _, err = consumer.Lag(ctx, e.client, stream, "g")
	require.NoError(t, err)
	require.Zero(t, pending)

	// Entries appended later go to "b" as usual.
	appendN(t, ctx, e, stream, 51, 10, "T")
	require.Eventually(t, func() bool { return c.len() == 60 }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, seqRange(1, 60), c.seqs())
}

func TestRecreatesGroupAfterNOGROUP(t *testing.T) {
	ctx := testCtx(t)
	e := newEnv(t, nil)
	stream := e.keys.Inbox("n1")
	var c collector
	r, err := consumer.New(e.client, e.codec, fastConfig(stream, "n1", "n1"), func(_ context.Context, b []consumer.Message) error {
		c.add(b)
		return nil
	}, testLogger(t))
	require.NoError(t, err)
	running(t, r)
	appendN(t, ctx, e, stream, 1, 5, "T")
	require.Eventually(t, func() bool { return c.len() == 5 }, 10*time.Second, 10*time.Millisecond)

	// The stream vanishes (as after FLUSHALL or a master restarted without
	// persistence), then entries come again.
	require.NoError(t, e.client.Do(ctx, e.client.B().Del().Key(stream).Build()).Error())
	require.NoError(t, consumer.DestroyGroup(ctx, e.client, stream, "n1"))
	appendN(t, ctx, e, stream, 6, 5, "T")
	require.Eventually(t, func() bool { return c.len() == 10 }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, seqRange(1, 10), c.seqs())

	groups, err := consumer.Groups(ctx, e.client, stream)
	require.NoError(t, err)
	require.Len(t, groups, 1)
	require.Equal(t, "n1", groups[0].Name)
	groups, err = consumer.Groups(ctx, e.client, e.keys.Inbox("nobody"))
	require.NoError(t, err)
	require.Empty(t, groups)
	require.NoError(t, consumer.DestroyGroup(ctx, e.client, e.keys.Inbox("nobody"), "g"))
}

func TestCleanShutdown(t *testing.T) {
	opts := goleak.IgnoreCurrent()
	ctx := testCtx(t)
	func() {
		// One seed, the stream's master: rueidis closes connections to
		// seeds it drops from its topology (replicas) 5 s later in a
		// goroutine of its own, which goleak would report.
		stream := "shutdown:{node-n1}:inbox"
		m, err := testCluster.MasterFor(ctx, stream)
		require.NoError(t, err)
		e := newEnvSeeds(t, nil, []string{testCluster.Addr(m)})
		stream = e.keys.Inbox("n1")
		m, err = testCluster.MasterFor(ctx, stream)
		require.NoError(t, err)
		require.Equal(t, e.cfg.Addrs[0], testCluster.Addr(m))
		// The handler cancels the run right after handling the first batch:
		// Run must still acknowledge that batch before returning.
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		var c collector
		cfg := fastConfig(stream, "n1", "n1")
		cfg.ClaimMinIdle = time.Second
		r, err := consumer.New(e.client, e.codec, cfg, func(_ context.Context, b []consumer.Message) error {
			c.add(b)
			cancel()
			return nil
		}, nil)
		require.NoError(t, err)
		appendN(t, ctx, e, stream, 1, 20, "T")
		require.NoError(t, r.Run(runCtx))
		require.Equal(t, 20, c.len())
		require.Equal(t, uint64(20), r.Stats().Acked)
		_, pending, _, err := consumer.Lag(ctx, e.client, stream, "n1")
		require.NoError(t, err)
		require.Zero(t, pending)

		// Cancel while blocked in XREADGROUP: Run returns and nothing leaks.
		stop := running(t, r)
		require.Eventually(t, func() bool {
			groups, err := consumer.Groups(ctx, e.client, stream)
			return err == nil && len(groups) == 1 && groups[0].Consumers == 1
		}, 5*time.Second, 10*time.Millisecond)
		stop()
		e.client.Close()
	}()
	goleak.VerifyNone(t, opts)
}

func TestNoAckMode(t *testing.T) {
	ctx := testCtx(t)
	e := newEnv(t, nil)
	stream := e.keys.Inbox("n1")
	appendN(t, ctx, e, stream, 1, 3, "T")
	require.NoError(t, e.client.Do(ctx, e.client.B().Xadd().Key(stream).Id("*").FieldValue().FieldValue("e", "").Build()).Error())
	appendN(t, ctx, e, stream, 4, 1, "Never")
	appendN(t, ctx, e, stream, 5, 2, "T")

	var calls atomic.Int64
	var c collector
	cfg := fastConfig(stream, "n1", "n1")
	cfg.NoAck = true
	cfg.MaxAttempts = 3
	cfg.ClaimMinIdle = time.Millisecond // ignored: nothing is pending
	cfg.DeadLetter = e.keys.DeadLetter(stream)
	r, err := consumer.New(e.client, e.codec, cfg, func(_ context.Context, b []consumer.Message) error {
		if calls.Add(1) == 1 {
			return errors.New("transient") // retried from memory
		}
		for _, m := range b {
			if m.Envelope.Type == "Never" {
				return errors.New("never works")
			}
		}
		c.add(b)
		return nil
	}, testLogger(t))
	require.NoError(t, err)
	running(t, r)

	// One read returns every entry: the malformed one is poison at once;
	// 1-3, 4 ("Never") and 5-6 are one batch that keeps failing, so after
	// MaxAttempts the whole batch is poison; later entries are handled.
	require.Eventually(t, func() bool { return r.Stats().Poison == 7 }, 10*time.Second, 10*time.Millisecond)
	t.Logf("stats %+v", r.Stats())
	appendN(t, ctx, e, stream, 7, 2, "T")
	require.Eventually(t, func() bool { return c.len() == 2 }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, []uint64{7, 8}, c.seqs())
	st := r.Stats()
	require.Equal(t, consumer.Stats{Read: 9, Poison: 7, Errors: 3}, st)

	_, pending, found, err := consumer.Lag(ctx, e.client, stream, "n1")
	require.NoError(t, err)
	require.True(t, found)
	require.Zero(t, pending)
	n, err := e.client.Do(ctx, e.client.B().Xlen().Key(e.keys.DeadLetter(stream)).Build()).AsInt64()
	require.NoError(t, err)
	require.Equal(t, int64(7), n)
}

func TestAckedBeforeAndTrim(t *testing.T) {
	ctx := testCtx(t)
	e := newEnv(t, nil)
	stream := e.keys.Inbox("n1")
	_, found, err := consumer.AckedBefore(ctx, e.client, stream, "n1")
	require.NoError(t, err)
	require.False(t, found)

	// Consumer "a" receives 300 entries and never acknowledges them.
	require.NoError(t, e.client.Do(ctx, e.client.B().XgroupCreate().Key(stream).Group("n1").Id("0").Mkstream().Build()).Error())
	appendN(t, ctx, e, stream, 1, 300, "T")
	first, err := e.client.Do(ctx, e.client.B().Xreadgroup().Group("n1", "a").Count(300).Streams().Key(stream).Id(">").Build()).AsXRead()
	require.NoError(t, err)
	require.Len(t, first[stream], 300)

	id, found, err := consumer.AckedBefore(ctx, e.client, stream, "n1")
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, first[stream][0].ID, id, "the oldest pending entry bounds the trim")
	n, err := e.app.TrimBefore(ctx, stream, id)
	require.NoError(t, err)
	require.Zero(t, n)

	// Once everything is acknowledged, the trim point is the last delivered
	// entry and trimming keeps it and everything after it.
	var ids []string
	for _, en := range first[stream] {
		ids = append(ids, en.ID)
	}
	require.NoError(t, e.client.Do(ctx, e.client.B().Xack().Key(stream).Group("n1").Id(ids...).Build()).Error())
	appendN(t, ctx, e, stream, 301, 10, "T")
	id, found, err = consumer.AckedBefore(ctx, e.client, stream, "n1")
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, ids[len(ids)-1], id)
	n, err = e.app.TrimBefore(ctx, stream, id)
	require.NoError(t, err)
	require.Greater(t, n, int64(0))
	left, err := e.client.Do(ctx, e.client.B().Xrange().Key(stream).Start(id).End("+").Build()).AsXRange()
	require.NoError(t, err)
	require.Len(t, left, 11, "the last delivered entry and the 10 undelivered ones stay")
}
