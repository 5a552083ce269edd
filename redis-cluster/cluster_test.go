package rediscluster

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var testCluster *Cluster

func TestMain(m *testing.M) { os.Exit(RunTests(m, &testCluster)) }

func TestSlotMatchesRedis(t *testing.T) {
	ctx := context.Background()
	keys := []string{"foo", "{sc}:control", "sc:{node-a}:inbox", "{user1000}.following", "a{}b", "{}x", "123456789"}
	for _, k := range keys {
		c, err := testCluster.procs[0].client()
		require.NoError(t, err)
		got, err := c.Do(ctx, c.B().ClusterKeyslot().Key(k).Build()).AsInt64()
		c.Close()
		require.NoError(t, err)
		require.Equal(t, int(got), Slot(k), "slot of %q", k)
	}
	require.Equal(t, 12739, Slot("123456789")) // CRC16 XMODEM check value 0x31C3 mod 16384
}

func fmtInt(i int) string { return strconv.Itoa(i) }

func TestClusterServesKeysOnEveryMaster(t *testing.T) {
	ctx := context.Background()
	client, err := testCluster.Client()
	require.NoError(t, err)
	defer client.Close()
	prefix := UniquePrefix(t)
	owners := map[int]bool{}
	for i := 0; i < 50; i++ {
		key := prefix + ":" + strconv.Itoa(i)
		require.NoError(t, client.Do(ctx, client.B().Set().Key(key).Value("v").Build()).Error())
		m, err := testCluster.MasterFor(ctx, key)
		require.NoError(t, err)
		owners[m] = true
	}
	require.Len(t, owners, 3, "50 keys spread over the three masters")
}

func TestFailoverAndRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const key = "{failover-test}"
	old, err := testCluster.MasterFor(ctx, key)
	require.NoError(t, err)

	newMaster, err := testCluster.Failover(ctx, key)
	require.NoError(t, err)
	require.NotEqual(t, old, newMaster)
	now, err := testCluster.MasterFor(ctx, key)
	require.NoError(t, err)
	require.Equal(t, newMaster, now)

	// Kill the new master: the old one (now its replica) takes over.
	require.NoError(t, testCluster.Kill(newMaster))
	require.False(t, testCluster.Running(newMaster))
	promoted, err := testCluster.WaitMasterChange(ctx, key, newMaster)
	require.NoError(t, err)
	require.Equal(t, old, promoted)

	// The killed process comes back as a replica and the cluster heals.
	require.NoError(t, testCluster.Restart(ctx, newMaster))
	require.NoError(t, testCluster.WaitHealthy(ctx))
	require.True(t, testCluster.Running(newMaster))
}

func TestPauseResume(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	idx := testCluster.Len() - 1
	require.NoError(t, testCluster.Pause(idx))
	short, stop := context.WithTimeout(ctx, 300*time.Millisecond)
	err := testCluster.procs[idx].waitPing(short)
	stop()
	require.Error(t, err, "a paused server does not answer")
	require.NoError(t, testCluster.Resume(idx))
	require.NoError(t, testCluster.procs[idx].waitPing(ctx))
	require.NoError(t, testCluster.WaitHealthy(ctx))
}

func TestStandalone(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := StartStandalone(ctx, Options{})
	require.NoError(t, err)
	defer s.Close()
	require.False(t, s.IsCluster())
	c, err := s.Client()
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Do(ctx, c.B().Set().Key("k").Value("v").Build()).Error())
	_, err = s.Failover(ctx, "k")
	require.ErrorIs(t, err, ErrNotCluster)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")
}
