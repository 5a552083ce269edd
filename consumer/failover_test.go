package consumer_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/consumer"
	"github.com/streamcluster/streamcluster/streams"
)

// publisher appends numbered envelopes one by one until stopped and
// remembers which appends Redis acknowledged.
type publisher struct {
	mu   sync.Mutex
	ok   map[uint64]bool
	errs int
	last error
	next uint64
	stop chan struct{}
	done chan struct{}
}

func startPublisher(ctx context.Context, e *env, stream string, first uint64) *publisher {
	p := &publisher{ok: map[uint64]bool{}, next: first, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			p.mu.Lock()
			seq := p.next
			p.next++
			p.mu.Unlock()
			actx, cancel := context.WithTimeout(ctx, time.Second)
			_, err := e.app.Append(actx, stream, streams.Envelope{Type: "T", Sender: "pub", Seq: seq})
			cancel()
			p.mu.Lock()
			if err == nil {
				p.ok[seq] = true
			} else {
				p.errs++
				p.last = err
			}
			p.mu.Unlock()
		}
	}()
	return p
}

// halt stops the publisher, waits for it and returns the acknowledged
// sequences.
func (p *publisher) halt() map[uint64]bool {
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ok
}

func (p *publisher) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("published %d, failed %d (last error: %v), next %d", len(p.ok), p.errs, p.last, p.next)
}

func (p *publisher) lastSeq() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.next - 1
}

func (c *collector) has(seq uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.msgs {
		if m.Envelope.Seq == seq {
			return true
		}
	}
	return false
}

// reached tells whether a sequence >= seq was delivered.
func (c *collector) reached(seq uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.msgs {
		if m.Envelope.Seq >= seq {
			return true
		}
	}
	return false
}

func (c *collector) set() map[uint64]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[uint64]bool, len(c.msgs))
	for _, m := range c.msgs {
		out[m.Envelope.Seq] = true
	}
	return out
}

func startCollecting(t *testing.T, e *env, stream string) (*collector, *consumer.Reader) {
	c := &collector{}
	cfg := fastConfig(stream, "g", "c1")
	cfg.ClaimMinIdle = time.Second
	r, err := consumer.New(e.client, e.codec, cfg, func(_ context.Context, b []consumer.Message) error {
		c.add(b)
		return nil
	}, testLogger(t))
	require.NoError(t, err)
	running(t, r)
	return c, r
}

func TestSurvivesFailoverOfTheStreamsMaster(t *testing.T) {
	ctx := testCtx(t)
	e := newEnv(t, nil)
	stream := e.keys.Inbox("failover")
	c, r := startCollecting(t, e, stream)

	p := startPublisher(ctx, e, stream, 1)
	require.Eventually(t, func() bool { return c.len() >= 100 }, 10*time.Second, 5*time.Millisecond)

	old, err := testCluster.MasterFor(ctx, stream)
	require.NoError(t, err)
	newMaster, err := testCluster.Failover(ctx, stream)
	require.NoError(t, err)
	require.NotEqual(t, old, newMaster)

	// Delivery resumes: entries published after the failover arrive.
	after := p.lastSeq() + 1
	require.Eventually(t, func() bool { return c.reached(after + 100) }, 20*time.Second, 5*time.Millisecond)
	ok := p.halt()

	// Nothing Redis acknowledged is lost (a manual failover waits for the
	// replica to catch up), duplicates are allowed.
	require.Eventually(t, func() bool {
		got := c.set()
		for seq := range ok {
			if !got[seq] {
				return false
			}
		}
		return true
	}, 10*time.Second, 10*time.Millisecond)
	t.Logf("published %d, delivered %d, reader stats %+v", len(ok), c.len(), r.Stats())
}

func TestSurvivesRestartOfARedisProcess(t *testing.T) {
	ctx := testCtx(t)
	e := newEnv(t, nil)
	stream := e.keys.Inbox("restart")
	c, r := startCollecting(t, e, stream)

	appendN(t, ctx, e, stream, 1, 50, "T")
	require.Eventually(t, func() bool { return c.len() == 50 }, 10*time.Second, 5*time.Millisecond)

	// Restart the master owning the stream. The test servers keep no data
	// on disk, so the stream and its group are gone unless the replica
	// took over meanwhile: the reader either recreates its group (NOGROUP)
	// or follows the new master.
	m, err := testCluster.MasterFor(ctx, stream)
	require.NoError(t, err)
	require.NoError(t, testCluster.Restart(ctx, m))
	require.NoError(t, testCluster.WaitHealthy(ctx))

	// Appends may fail while clients reconnect; every acknowledged one
	// after the restart is delivered.
	var acked []uint64
	for seq := uint64(100); seq < 150; seq++ {
		require.Eventually(t, func() bool {
			actx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			_, err := e.app.Append(actx, stream, streams.Envelope{Type: "T", Sender: "pub", Seq: seq})
			return err == nil
		}, 20*time.Second, 20*time.Millisecond)
		acked = append(acked, seq)
	}
	require.Eventually(t, func() bool {
		for _, seq := range acked {
			if !c.has(seq) {
				return false
			}
		}
		return true
	}, 20*time.Second, 10*time.Millisecond)
	t.Logf("delivered %d, reader stats %+v", c.len(), r.Stats())
}

func TestSurvivesKillOfTheStreamsMaster(t *testing.T) {
	ctx := testCtx(t)
	e := newEnv(t, nil)
	stream := e.keys.Inbox("kill")
	c, r := startCollecting(t, e, stream)

	p := startPublisher(ctx, e, stream, 1)
	require.Eventually(t, func() bool { return c.len() >= 100 }, 10*time.Second, 5*time.Millisecond)

	old, err := testCluster.MasterFor(ctx, stream)
	require.NoError(t, err)
	require.NoError(t, testCluster.Kill(old))
	t.Cleanup(func() {
		// Give the next tests a full cluster again.
		require.NoError(t, testCluster.Restart(context.Background(), old))
		require.NoError(t, testCluster.WaitHealthy(context.Background()))
	})
	newMaster, err := testCluster.WaitMasterChange(ctx, stream, old)
	require.NoError(t, err)
	require.NotEqual(t, old, newMaster)

	// Replication is asynchronous, so the last entries the dead master
	// acknowledged may be lost; every entry acknowledged by the new master
	// is delivered.
	after := p.lastSeq() + 1
	require.Eventually(t, func() bool { return c.reached(after + 100) }, 30*time.Second, 5*time.Millisecond,
		"publisher: %v; reader: %v", p, lazy(func() string { return fmt.Sprintf("%+v", r.Stats()) }))
	ok := p.halt()
	require.Eventually(t, func() bool {
		got := c.set()
		for seq := range ok {
			if seq >= after && !got[seq] {
				return false
			}
		}
		return true
	}, 10*time.Second, 10*time.Millisecond)
	t.Logf("published %d, delivered %d, reader stats %+v", len(ok), c.len(), r.Stats())
}

// lazy formats its result only when printed (testify formats messages on
// failure).
type lazy func() string

func (l lazy) String() string { return l() }
