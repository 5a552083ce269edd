package streamcluster_test

import (
	"context"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	streamcluster "github.com/streamcluster/streamcluster/testcontainers"
)

// Images under test: containers/test.sh sets them to the local builds.
func images(tb testing.TB) (node, redis string) {
	node = os.Getenv("SC_IMAGE")
	if node == "" {
		tb.Skip("SC_IMAGE is not set: run containers/test.sh, or set SC_IMAGE and DOCKER_HOST")
	}
	redis = os.Getenv("SC_REDIS_IMAGE")
	if redis == "" {
		redis = streamcluster.DefaultRedisImage
	}
	return node, redis
}

func TestOptionsValidated(t *testing.T) {
	for _, opt := range []streamcluster.Option{
		streamcluster.WithNodes(0),
		streamcluster.WithMinimumNodes(-1),
		streamcluster.WithHeartbeat(0),
		streamcluster.WithRedisImage(""),
		streamcluster.WithStorage("mongodb", ""),
		streamcluster.WithStartupTimeout(0),
	} {
		_, err := streamcluster.Run(context.Background(), "unused", opt)
		assert.ErrorIs(t, err, streamcluster.ErrOption)
	}
}

const heartbeat = 500 * time.Millisecond

// evictionBound is how long the others may take to drop a silent node: the
// eviction timeout (3 heartbeats) plus the detector's check period and
// the round trips through Redis, with room for a loaded CI machine.
const evictionBound = 3*heartbeat + 5*time.Second

// TestFailures runs one 3-node cluster through a kill, a network cut from
// Redis and a graceful stop.
func TestFailures(t *testing.T) {
	nodeImage, redisImage := images(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	c, err := streamcluster.Run(ctx, nodeImage,
		streamcluster.WithRedisImage(redisImage),
		streamcluster.WithNodes(3),
		streamcluster.WithMinimumNodes(1),
		streamcluster.WithHeartbeat(heartbeat),
	)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Terminate(context.Background())) })
	t.Cleanup(func() {
		if t.Failed() {
			for i := range c.Len() {
				logs, _ := c.Logs(context.Background(), i)
				t.Logf("--- %s logs:\n%s", c.NodeID(i), logs)
			}
		}
	})

	// members returns the ids node i sees, sorted, or nil when it cannot say.
	members := func(i int) []string {
		st, err := c.Status(ctx, i)
		if err != nil {
			return nil
		}
		ids := st.Members()
		slices.Sort(ids)
		return ids
	}
	all := []string{c.NodeID(0), c.NodeID(1), c.NodeID(2)}

	t.Run("three nodes ready", func(t *testing.T) {
		for i := range c.Len() {
			st, err := c.Status(ctx, i)
			require.NoError(t, err)
			assert.Equal(t, 3, st.Count, "count on %s", c.NodeID(i))
			assert.Equal(t, c.NodeID(i), st.Current.ID)
			ids := st.Members()
			slices.Sort(ids)
			assert.Equal(t, all, ids)

			u, err := c.HealthURL(ctx, i)
			require.NoError(t, err)
			resp, err := http.Get(u)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode, u)

			logs, err := c.Logs(ctx, i)
			require.NoError(t, err)
			assert.NotContains(t, logs, "no shared secret", "the module signs control entries")

			ws, err := c.WebSocketURL(ctx, i)
			require.NoError(t, err)
			assert.Regexp(t, `^ws://[^/]+:\d+/$`, ws)
		}
	})

	t.Run("killed node evicted", func(t *testing.T) {
		require.NoError(t, c.Kill(ctx, 2))
		killedAt := time.Now()
		want := []string{c.NodeID(0), c.NodeID(1)}
		require.Eventually(t, func() bool {
			return slices.Equal(members(0), want) && slices.Equal(members(1), want)
		}, evictionBound, 100*time.Millisecond, "nodes 1 and 2 still see %v / %v", members(0), members(1))
		t.Logf("evicted %s after %s (heartbeat %s)", c.NodeID(2), time.Since(killedAt).Round(time.Millisecond), heartbeat)

		require.NoError(t, c.Restart(ctx, 2))
		require.Eventually(t, func() bool {
			return slices.Equal(members(0), all) && slices.Equal(members(1), all) && slices.Equal(members(2), all)
		}, 30*time.Second, 100*time.Millisecond)
	})

	t.Run("node cut off Redis is evicted, then rejoins", func(t *testing.T) {
		const cut = 1
		before, err := c.Status(ctx, cut)
		require.NoError(t, err)

		require.NoError(t, c.Disconnect(ctx, cut))
		cutAt := time.Now()
		require.Eventually(t, func() bool {
			ready, err := c.Ready(ctx, cut)
			return err == nil && !ready // answers, but not ready
		}, evictionBound, 100*time.Millisecond, "%s still ready", c.NodeID(cut))
		t.Logf("%s not ready after %s", c.NodeID(cut), time.Since(cutAt).Round(time.Millisecond))
		want := []string{c.NodeID(0), c.NodeID(2)}
		require.Eventually(t, func() bool {
			return slices.Equal(members(0), want) && slices.Equal(members(2), want)
		}, evictionBound, 100*time.Millisecond, "others still see %v / %v", members(0), members(2))
		t.Logf("%s evicted after %s", c.NodeID(cut), time.Since(cutAt).Round(time.Millisecond))

		require.NoError(t, c.Reconnect(ctx, cut))
		require.NoError(t, c.WaitReady(ctx, cut))
		require.Eventually(t, func() bool {
			return slices.Equal(members(0), all) && slices.Equal(members(1), all) && slices.Equal(members(2), all)
		}, 30*time.Second, 100*time.Millisecond)
		after, err := c.Status(ctx, cut)
		require.NoError(t, err)
		assert.Greater(t, after.Current.Incarnation, before.Current.Incarnation, "rejoined with a new incarnation")
		seen, err := c.Status(ctx, 0)
		require.NoError(t, err)
		for _, m := range seen.Pool {
			if m.ID == c.NodeID(cut) {
				assert.Equal(t, after.Current.Incarnation, m.Incarnation, "peers see the new incarnation")
			}
		}
	})

	t.Run("stopped node leaves", func(t *testing.T) {
		require.NoError(t, c.Stop(ctx, 0))
		st, err := c.Node(0).State(ctx)
		require.NoError(t, err)
		assert.Equal(t, 0, st.ExitCode, "SIGTERM: graceful exit")
		want := []string{c.NodeID(1), c.NodeID(2)}
		require.Eventually(t, func() bool {
			return slices.Equal(members(1), want) && slices.Equal(members(2), want)
		}, evictionBound, 50*time.Millisecond)
		// Dropped on its NodeLeft, not evicted for silence.
		for _, i := range []int{1, 2} {
			logs, err := c.Logs(ctx, i)
			require.NoError(t, err)
			assert.Regexp(t, `"msg":"peer left".*"peer":"`+c.NodeID(0)+`"`, logs, c.NodeID(i))
			assert.NotRegexp(t, `"msg":"peer evicted".*"peer":"`+c.NodeID(0)+`"`, logs, c.NodeID(i))
		}
	})
}
