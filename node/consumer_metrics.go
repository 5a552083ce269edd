package node

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamcluster/streamcluster/consumer"
)

// ConsumerCollector exports the counters of a consumer-group reader (for
// instance (*consumer.Reader).Stats of a node's inbox reader) as
// streamcluster_consumer_*_total{stream="<name>"}. name must be a bounded
// label value such as "inbox" or "control", never a client-supplied string.
func ConsumerCollector(name string, stats func() consumer.Stats) prometheus.Collector {
	return &consumerCollector{name: name, stats: stats, descs: map[string]*prometheus.Desc{
		"read":      consumerDesc("read", "Entries received by the reader (new, re-read pending and reclaimed)."),
		"acked":     consumerDesc("acked", "Entries acknowledged."),
		"poison":    consumerDesc("poison", "Entries acknowledged without being handled (malformed, badly signed, poison, or too many attempts)."),
		"reclaimed": consumerDesc("reclaimed", "Entries taken over from other consumers with XAUTOCLAIM."),
		"errors":    consumerDesc("errors", "Failed Redis calls and transient handler errors."),
	}}
}

func consumerDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("streamcluster_consumer_"+name+"_total", help, []string{"stream"}, nil)
}

type consumerCollector struct {
	name  string
	stats func() consumer.Stats
	descs map[string]*prometheus.Desc
}

func (c *consumerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *consumerCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	for name, v := range map[string]uint64{
		"read": s.Read, "acked": s.Acked, "poison": s.Poison, "reclaimed": s.Reclaimed, "errors": s.Errors,
	} {
		ch <- prometheus.MustNewConstMetric(c.descs[name], prometheus.CounterValue, float64(v), c.name)
	}
}
