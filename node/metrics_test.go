package node

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/consumer"
)

func TestConsumerCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	stats := consumer.Stats{Read: 10, Acked: 9, Poison: 1, Reclaimed: 2, Errors: 3}
	require.NoError(t, reg.Register(ConsumerCollector("inbox", func() consumer.Stats { return stats })))
	families, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, f := range families {
		require.Len(t, f.GetMetric(), 1, f.GetName())
		m := f.GetMetric()[0]
		require.Len(t, m.GetLabel(), 1)
		assert.Equal(t, "stream", m.GetLabel()[0].GetName())
		assert.Equal(t, "inbox", m.GetLabel()[0].GetValue())
		got[f.GetName()] = m.GetCounter().GetValue()
	}
	assert.Equal(t, map[string]float64{
		"streamcluster_consumer_read_total":      10,
		"streamcluster_consumer_acked_total":     9,
		"streamcluster_consumer_poison_total":    1,
		"streamcluster_consumer_reclaimed_total": 2,
		"streamcluster_consumer_errors_total":    3,
	}, got)
}
