package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/realtime/realtimetest"
	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
)

// metric returns the value of the unlabelled (or first) series of name
// gathered from g, and whether it was found.
func metric(t *testing.T, g prometheus.Gatherer, name string) (float64, bool) {
	t.Helper()
	families, err := g.Gather()
	require.NoError(t, err)
	for _, mf := range families {
		if mf.GetName() != name || len(mf.GetMetric()) == 0 {
			continue
		}
		m := mf.GetMetric()[0]
		switch {
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue(), true
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

func TestMetrics(t *testing.T) {
	client := newClient(t)
	prefix := rediscluster.UniquePrefix(t)
	promA, promB := prometheus.NewRegistry(), prometheus.NewRegistry()
	a := startNodeWith(t, client, prefix, "a", nodeOpts{prom: promA})
	b := startNodeWith(t, client, prefix, "b", nodeOpts{prom: promB})
	require.Eventually(t, func() bool {
		return a.n.Ready() && b.n.Ready() && len(a.n.Members(context.Background())) == 2 && len(b.n.Members(context.Background())) == 2
	}, 10*time.Second, 10*time.Millisecond)
	onA := realtimetest.NewConn("a1")
	r := subscribe(t, a, onA, filter(t, "idx", "coll", `{"equals":{"k":1}}`)).RoomID
	allSee(t, map[string]int{r: 1}, a, b)
	write(t, b, "idx", "coll", map[string]any{"k": 1})
	require.Eventually(t, func() bool { return onA.Len() == 1 }, 5*time.Second, 5*time.Millisecond)

	for _, c := range []struct {
		g    prometheus.Gatherer
		name string
		want float64
	}{
		{promA, "streamcluster_realtime_rooms", 1},
		{promA, "streamcluster_realtime_local_rooms", 1},
		{promA, "streamcluster_realtime_inbox_received_total", 1},
		{promA, "streamcluster_realtime_inbox_gaps_total", 0},
		{promA, "streamcluster_consumer_read_total", 1},
		{promB, "streamcluster_realtime_rooms", 1},
		{promB, "streamcluster_realtime_local_rooms", 0},
		{promB, "streamcluster_realtime_inbox_sent_total", 1},
		{promB, "streamcluster_realtime_inbox_send_errors_total", 0},
	} {
		v, ok := metric(t, c.g, c.name)
		if assert.True(t, ok, c.name) {
			assert.Equal(t, c.want, v, c.name)
		}
	}
}
