package harness

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Probe payloads carry "<run>:<seq>:<stamp>:" followed by padding. The stamp
// is nanoseconds since the harness clock's origin, read from the monotonic
// clock of this process, so sender and receiver share one clock.
const probePad = 64

// clock is the harness time origin.
type clock struct{ origin time.Time }

func newClock() clock { return clock{origin: time.Now()} }

// now returns nanoseconds since the origin (monotonic).
func (c clock) now() int64 { return int64(time.Since(c.origin)) }

// encodeProbe appends a probe payload to dst.
func encodeProbe(dst []byte, run uint32, seq int, stamp int64) []byte {
	dst = strconv.AppendUint(dst, uint64(run), 10)
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, int64(seq), 10)
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, stamp, 10)
	dst = append(dst, ':')
	for range probePad {
		dst = append(dst, 'x')
	}
	return dst
}

var errBadProbe = errors.New("harness: malformed probe")

// decodeProbe parses a payload written by encodeProbe.
func decodeProbe(p []byte) (run uint32, seq int, stamp int64, err error) {
	var fields [3]int64
	start := 0
	for i := range fields {
		end := start
		for end < len(p) && p[end] != ':' {
			end++
		}
		if end == len(p) {
			return 0, 0, 0, fmt.Errorf("%w: %q", errBadProbe, p)
		}
		v, perr := strconv.ParseInt(string(p[start:end]), 10, 64)
		if perr != nil {
			return 0, 0, 0, fmt.Errorf("%w: %v", errBadProbe, perr)
		}
		fields[i] = v
		start = end + 1
	}
	return uint32(fields[0]), int(fields[1]), fields[2], nil
}

// recorder collects the latencies of one run: probes with another run id
// are counted as stale and ignored.
type recorder struct {
	run      uint32
	clk      clock
	expected atomic.Int64 // deliveries expected so far (sent × receivers)
	received atomic.Int64
	stale    atomic.Int64
	done     chan struct{} // closed when received reaches the final expected count
	final    atomic.Int64  // final expected count, 0 while still sending
	doneOnce sync.Once

	mu      sync.Mutex
	samples []time.Duration
}

var runIDs atomic.Uint32

func newRecorder(clk clock, capacity int) *recorder {
	return &recorder{
		run: runIDs.Add(1), clk: clk, done: make(chan struct{}),
		samples: make([]time.Duration, 0, capacity),
	}
}

// observe records one delivered probe payload. It is safe for concurrent use.
func (r *recorder) observe(p []byte) {
	now := r.clk.now()
	run, _, stamp, err := decodeProbe(p)
	if err != nil || run != r.run {
		r.stale.Add(1)
		return
	}
	r.mu.Lock()
	r.samples = append(r.samples, time.Duration(now-stamp))
	r.mu.Unlock()
	n := r.received.Add(1)
	if f := r.final.Load(); f > 0 && n >= f {
		r.doneOnce.Do(func() { close(r.done) })
	}
}

// finish sets the final expected count and waits until every delivery
// arrived or drain elapsed. It returns the number of missing deliveries.
func (r *recorder) finish(ctx context.Context, expected int64, drain time.Duration) int64 {
	r.final.Store(expected)
	if r.received.Load() >= expected {
		r.doneOnce.Do(func() { close(r.done) })
	}
	t := time.NewTimer(drain)
	defer t.Stop()
	select {
	case <-r.done:
	case <-t.C:
	case <-ctx.Done():
	}
	return max(0, expected-r.received.Load())
}

// take returns the samples recorded so far; call it after finish.
func (r *recorder) take() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.samples
	r.samples = nil
	return s
}

// pace calls send(seq, n) so that about rate messages per second go out for
// d: at each tick (every 200 µs) the messages that fell due are handed over
// as one batch, seq being the first sequence number of the batch. It returns
// how many messages were sent and how long it took. send errors stop pacing.
func pace(ctx context.Context, rate int, d time.Duration, send func(seq, n int) error) (int, time.Duration, error) {
	total := int(int64(rate) * int64(d) / int64(time.Second))
	start := time.Now()
	tick := time.NewTicker(200 * time.Microsecond)
	defer tick.Stop()
	sent := 0
	for sent < total {
		due := min(total, int(float64(rate)*time.Since(start).Seconds()))
		if due > sent {
			if err := send(sent, due-sent); err != nil {
				return sent, time.Since(start), err
			}
			sent = due
		}
		if sent == total {
			break
		}
		select {
		case <-ctx.Done():
			return sent, time.Since(start), ctx.Err()
		case <-tick.C:
		}
		if time.Since(start) > d+2*time.Second { // bound: a stalled sender gives up
			return sent, time.Since(start), fmt.Errorf("harness: pacer fell %d messages behind", total-sent)
		}
	}
	return sent, time.Since(start), nil
}
