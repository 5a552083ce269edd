package nodetest

import (
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/streams"
)

func TestThreeNodesWithMinimumNodes(t *testing.T) {
	c := newCluster(t, 200*time.Millisecond, "--minimum-nodes", "3")

	a := c.start("a")
	require.Eventually(t, func() bool { return a.status().Count == 1 }, 5*time.Second, 20*time.Millisecond)
	assert.Equal(t, http.StatusNotFound, a.health(), "one node of three: not ready")

	b := c.start("b")
	require.Eventually(t, func() bool { return a.status().Count == 2 && b.status().Count == 2 }, 5*time.Second, 20*time.Millisecond)
	// Two heartbeats later, still two of three: nobody is ready.
	time.Sleep(2 * c.heartbeat)
	assert.Equal(t, http.StatusNotFound, a.health())
	assert.Equal(t, http.StatusNotFound, b.health())
	code, err := a.get("/_ready", nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, 1, a.probe(), "`streamcluster health` on a node that is not ready")

	cc := c.start("c")
	waitAllReady(t, 5*time.Second, a, b, cc)
	st := cc.status()
	assert.Equal(t, 3, st.Count)
	assert.Equal(t, "c", st.Current.ID)
	assert.Equal(t, cc.addr, st.Current.Address)
	code, err = a.get("/_ready", nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, 0, a.probe(), "`streamcluster health` on a ready node")
	ready, ok := a.metric(`streamcluster_node_ready{node="a"}`)
	require.True(t, ok)
	assert.Equal(t, 1.0, ready)
	code, err = a.get("/_healthcheck", nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	for _, m := range st.Pool {
		assert.GreaterOrEqual(t, m.ControlLag, int64(0), "lag of %s from XINFO GROUPS", m.ID)
		assert.Less(t, m.SecondsSinceHeartbeat, c.timeout().Seconds())
	}
}

func TestKillEvictsAndReadinessFollowsMinimumNodes(t *testing.T) {
	c := newCluster(t, 200*time.Millisecond, "--minimum-nodes", "3")
	a, b, cc := c.start("a"), c.start("b"), c.start("c")
	waitAllReady(t, 5*time.Second, a, b, cc)

	killed := time.Now()
	cc.signal(syscall.SIGKILL)
	require.Eventually(t, func() bool {
		sa, sb := a.status(), b.status()
		return sa.Count == 2 && sb.Count == 2
	}, c.timeout()+c.heartbeat+2*time.Second, 10*time.Millisecond)
	t.Logf("heartbeat %s, eviction timeout %s: kill -9 to eviction seen by both survivors in %s",
		c.heartbeat, c.timeout(), time.Since(killed))

	// Its group on the control stream and its inbox are gone.
	client, err := testCluster.Client()
	require.NoError(t, err)
	defer client.Close()
	ctx := redisCtx(t)
	keys := streams.NewKeys(c.prefix)
	groups, err := client.Do(ctx, client.B().XinfoGroups().Key(keys.Control()).Build()).ToArray()
	require.NoError(t, err)
	var names []string
	for _, g := range groups {
		m, err := g.AsMap()
		require.NoError(t, err)
		name := m["name"]
		s, err := name.ToString()
		require.NoError(t, err)
		names = append(names, s)
	}
	assert.ElementsMatch(t, []string{"a", "b"}, names)
	n, err := client.Do(ctx, client.B().Exists().Key(keys.Inbox("c")).Build()).AsInt64()
	require.NoError(t, err)
	assert.Zero(t, n, "c's inbox deleted")
	n, err = client.Do(ctx, client.B().Exists().Key(keys.Inbox("a")).Build()).AsInt64()
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "a's inbox kept")

	// Eviction is idempotent: both survivors suspect c, exactly one evicts it.
	var evictions float64
	for _, p := range []*proc{a, b} {
		v, ok := p.metric(`streamcluster_evictions_total{node="` + p.id + `"}`)
		require.True(t, ok, "evictions metric of %s", p.id)
		evictions += v
		members, ok := p.metric(`streamcluster_cluster_members{node="` + p.id + `"}`)
		require.True(t, ok)
		assert.Equal(t, 2.0, members)
		_, ok = p.metric(`streamcluster_peer_heartbeat_age_seconds{node="` + p.id + `",peer="c"}`)
		assert.False(t, ok, "no heartbeat age for an evicted peer")
		_, ok = p.metric(`streamcluster_peer_heartbeat_age_seconds{node="` + p.id + `",peer="a"}`)
		assert.True(t, ok)
	}
	assert.Equal(t, 1.0, evictions)

	// Two of three: not ready any more.
	require.Eventually(t, func() bool {
		return a.health() == http.StatusNotFound && b.health() == http.StatusNotFound
	}, 2*time.Second, 10*time.Millisecond)

	// c comes back (new process, same id): ready again.
	cc.restart()
	waitAllReady(t, 5*time.Second, a, b, cc)
}

func TestPausedNodeIsEvictedAndRejoins(t *testing.T) {
	c := newCluster(t, 200*time.Millisecond)
	a, b := c.start("a"), c.start("b")
	waitAllReady(t, 5*time.Second, a, b)
	before := a.status().incarnationOf("b")
	require.NotZero(t, before)

	b.signal(syscall.SIGSTOP)
	require.Eventually(t, func() bool { return a.status().Count == 1 }, c.timeout()+2*time.Second, 10*time.Millisecond,
		"the paused node is not evicted")
	b.signal(syscall.SIGCONT)

	waitAllReady(t, 5*time.Second, a, b)
	after := a.status().incarnationOf("b")
	assert.Greater(t, after, before, "b rejoined with a new incarnation")
	assert.Equal(t, after, b.status().Current.Incarnation)
}

// incarnations returns each node's own incarnation.
func incarnations(procs ...*proc) map[string]uint64 {
	out := map[string]uint64{}
	for _, p := range procs {
		out[p.id] = p.status().Current.Incarnation
	}
	return out
}

func TestRedisFailoverEvictsNobody(t *testing.T) {
	c := newCluster(t, 300*time.Millisecond, "--wait-replicas", "1")
	a, b, cc := c.start("a"), c.start("b"), c.start("c")
	waitAllReady(t, 5*time.Second, a, b, cc)
	want := incarnations(a, b, cc)
	key := streams.NewKeys(c.prefix).Control()
	ctx := redisCtx(t)

	// Watch the whole time: nobody ever drops a member.
	var (
		mu      sync.Mutex
		dropped []string
		stop    = make(chan struct{})
		watched sync.WaitGroup
	)
	watched.Add(1)
	go func() {
		defer watched.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			for _, p := range []*proc{a, b, cc} {
				if st := p.status(); st.Count != 0 && st.Count != 3 {
					mu.Lock()
					dropped = append(dropped, p.id)
					mu.Unlock()
				}
			}
		}
	}()
	defer func() {
		close(stop)
		watched.Wait()
		mu.Lock()
		defer mu.Unlock()
		assert.Empty(t, dropped, "a node saw fewer than 3 members during the failover")
	}()

	// Graceful failover.
	_, err := testCluster.Failover(ctx, key)
	require.NoError(t, err)
	waitAllReady(t, 10*time.Second, a, b, cc)
	assert.Equal(t, want, incarnations(a, b, cc), "no node was evicted by the failover")

	// Kill of the master owning the control plane.
	master, err := testCluster.MasterFor(ctx, key)
	require.NoError(t, err)
	require.NoError(t, testCluster.Kill(master))
	_, err = testCluster.WaitMasterChange(ctx, key, master)
	require.NoError(t, err)
	waitAllReady(t, 15*time.Second, a, b, cc)
	assert.Equal(t, want, incarnations(a, b, cc), "no node was evicted after the master's kill")
	require.NoError(t, testCluster.Restart(ctx, master))
	require.NoError(t, testCluster.WaitHealthy(ctx))
}

func TestGracefulStopLeavesAtOnce(t *testing.T) {
	// A long heartbeat: the peer must drop the node long before the timeout.
	c := newCluster(t, 2*time.Second)
	a, b := c.start("a"), c.start("b")
	waitAllReady(t, 10*time.Second, a, b)

	stopped := time.Now()
	b.signal(syscall.SIGTERM)
	assert.Equal(t, 0, b.wait(5*time.Second), "exit status after SIGTERM")
	require.Eventually(t, func() bool { return a.status().Count == 1 }, c.heartbeat, 10*time.Millisecond,
		"the stopped node is still listed")
	t.Logf("SIGTERM to removal: %s (eviction timeout %s)", time.Since(stopped), c.timeout())

	client, err := testCluster.Client()
	require.NoError(t, err)
	defer client.Close()
	n, err := client.Do(redisCtx(t), client.B().Exists().Key(streams.NewKeys(c.prefix).Inbox("b")).Build()).AsInt64()
	require.NoError(t, err)
	assert.Zero(t, n, "inbox of the stopped node")
}

func TestResetRelistsEveryNode(t *testing.T) {
	c := newCluster(t, 300*time.Millisecond)
	a, b, cc := c.start("a"), c.start("b"), c.start("c")
	waitAllReady(t, 5*time.Second, a, b, cc)
	before := incarnations(a, b, cc)

	resp, err := httpClient.Post("http://"+a.addr+"/_plugin/cluster/reset", "application/json", nil)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	reset := time.Now()

	// Listed again = every node lists all three with their post-reset
	// incarnations (the pre-reset lists are stale, not a re-announcement).
	relisted := func() bool {
		for _, p := range []*proc{a, b, cc} {
			st := p.status()
			if st.Count != 3 {
				return false
			}
			for id, inc := range before {
				if st.incarnationOf(id) <= inc {
					return false
				}
			}
		}
		return true
	}
	require.Eventually(t, relisted, 2*c.heartbeat+time.Second, 5*time.Millisecond)
	t.Logf("reset to every node re-listed on every node: %s (heartbeat %s)", time.Since(reset), c.heartbeat)
	waitAllReady(t, 5*time.Second, a, b, cc)

	client, err := testCluster.Client()
	require.NoError(t, err)
	defer client.Close()
	n, err := client.Do(redisCtx(t), client.B().Hlen().Key(streams.NewKeys(c.prefix).Members()).Build()).AsInt64()
	require.NoError(t, err)
	assert.Equal(t, int64(3), n, "members in Redis after the reset")
}

// TestDetectionTimeAtOneSecond measures, at the default heartbeat of 1 s,
// the time from kill -9 to the eviction seen on every survivor.
func TestDetectionTimeAtOneSecond(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 5 s")
	}
	c := newCluster(t, time.Second)
	a, b, cc := c.start("a"), c.start("b"), c.start("c")
	waitAllReady(t, 10*time.Second, a, b, cc)

	killed := time.Now()
	cc.signal(syscall.SIGKILL)
	seen := map[string]time.Duration{}
	require.Eventually(t, func() bool {
		for _, p := range []*proc{a, b} {
			if _, ok := seen[p.id]; !ok && p.status().Count == 2 {
				seen[p.id] = time.Since(killed)
			}
		}
		return len(seen) == 2
	}, c.timeout()+c.heartbeat+2*time.Second, 5*time.Millisecond)
	t.Logf("heartbeat 1s, eviction timeout 3s: kill -9 to eviction seen by a in %s, by b in %s", seen["a"], seen["b"])
	for id, d := range seen {
		assert.LessOrEqual(t, d, c.timeout()+c.heartbeat, "detection on %s", id)
	}
}

// TestUnreachableRedisEvictsNobody freezes the master of the control plane
// for longer than the eviction timeout (but shorter than Redis Cluster's
// node timeout, so no failover): every node turns not ready, nobody is
// evicted, and all return to ready when Redis answers again.
func TestUnreachableRedisEvictsNobody(t *testing.T) {
	c := newCluster(t, 200*time.Millisecond)
	a, b, cc := c.start("a"), c.start("b"), c.start("c")
	waitAllReady(t, 5*time.Second, a, b, cc)
	want := incarnations(a, b, cc)
	ctx := redisCtx(t)
	master, err := testCluster.MasterFor(ctx, streams.NewKeys(c.prefix).Control())
	require.NoError(t, err)

	require.NoError(t, testCluster.Pause(master))
	resumed := false
	defer func() {
		if !resumed {
			assert.NoError(t, testCluster.Resume(master))
		}
	}()
	require.Eventually(t, func() bool {
		return a.health() == http.StatusNotFound && b.health() == http.StatusNotFound && cc.health() == http.StatusNotFound
	}, c.timeout()+time.Second, 10*time.Millisecond, "nodes stay ready without Redis")
	time.Sleep(c.timeout()) // well past the eviction timeout, still below cluster-node-timeout
	require.NoError(t, testCluster.Resume(master))
	resumed = true

	waitAllReady(t, 5*time.Second, a, b, cc)
	assert.Equal(t, want, incarnations(a, b, cc), "nobody was evicted")
	var evictions float64
	for _, p := range []*proc{a, b, cc} {
		v, ok := p.metric(`streamcluster_evictions_total{node="` + p.id + `"}`)
		require.True(t, ok)
		evictions += v
	}
	assert.Zero(t, evictions)
}

func TestServeExitsWhenRedisNeverAnswers(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "kuzzlerc.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"plugins":{"cluster":{"retryJoin":2,"timers":{"joinAttemptInterval":50}}}}`), 0o600))
	p := &proc{t: t, id: "lonely", addr: freeAddr(t), log: &syncBuffer{}}
	p.args = []string{"serve", "--listen", p.addr, "--redis", freeAddr(t), "--config", cfg}
	p.launch()
	t.Cleanup(p.kill)
	assert.Equal(t, 1, p.wait(10*time.Second), p.log.String())
	assert.Contains(t, p.log.String(), "cannot reach Redis")
}
