package consumer_test

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/consumer"
	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
	"github.com/streamcluster/streamcluster/streams"
)

var testCluster *rediscluster.Cluster

func TestMain(m *testing.M) { os.Exit(rediscluster.RunTests(m, &testCluster)) }

// env is one test's client, codec, appender and keys under a unique prefix.
type env struct {
	client rueidis.Client
	codec  *streams.Codec
	app    *streams.Appender
	keys   streams.Keys
	cfg    streams.Config
}

func newEnv(t *testing.T, secret []byte) *env {
	t.Helper()
	return newEnvSeeds(t, secret, testCluster.Addrs())
}

func newEnvSeeds(t *testing.T, secret []byte, seeds []string) *env {
	t.Helper()
	cfg := streams.DefaultConfig()
	cfg.Addrs = seeds
	cfg.Prefix = rediscluster.UniquePrefix(t)
	cfg.Secret = secret
	cfg.ReadTimeout = 2 * time.Second
	client, err := streams.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(client.Close)
	codec := streams.NewCodec(secret)
	return &env{client: client, codec: codec, app: streams.NewAppender(client, codec, cfg), keys: streams.NewKeys(cfg.Prefix), cfg: cfg}
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

// fastConfig is a reader config with short timers for tests.
func fastConfig(stream, group, name string) consumer.Config {
	return consumer.Config{
		Stream:        stream,
		Group:         group,
		Consumer:      name,
		Block:         200 * time.Millisecond,
		ClaimMinIdle:  consumer.NoClaim,
		ClaimInterval: 100 * time.Millisecond,
		BackoffMin:    10 * time.Millisecond,
		BackoffMax:    200 * time.Millisecond,
		Start:         "0",
	}
}

// collector records what a handler saw; safe for concurrent use.
type collector struct {
	mu   sync.Mutex
	msgs []consumer.Message
}

func (c *collector) add(batch []consumer.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, batch...)
}

func (c *collector) seqs() []uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]uint64, len(c.msgs))
	for i, m := range c.msgs {
		out[i] = m.Envelope.Seq
	}
	return out
}

func (c *collector) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

// running starts r.Run in a goroutine and returns a stop function that
// cancels it and waits for Run to return (failing the test if it does not
// return within 10 s).
func running(t *testing.T, r *consumer.Reader) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func appendN(t *testing.T, ctx context.Context, e *env, stream string, from, n int, typ string) {
	t.Helper()
	batch := make([]streams.Entry, n)
	for i := range batch {
		batch[i] = streams.Entry{Stream: stream, Envelope: streams.Envelope{Type: typ, Sender: "src", Incarnation: 1, Seq: uint64(from + i), Time: time.Now().UnixMilli()}}
	}
	for _, r := range e.app.AppendBatch(ctx, batch) {
		require.NoError(t, r.Err)
	}
}

func seqRange(from, n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(from + i)
	}
	return out
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
