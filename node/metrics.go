package node

import (
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func sortMembers(ms []Member) {
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
}

// collector exposes the node's state at scrape time. Labels are bounded by
// the number of members.
type collector struct {
	n            *Node
	members      *prometheus.Desc
	ready        *prometheus.Desc
	heartbeatAge *prometheus.Desc
	evictions    *prometheus.Desc
	rejoins      *prometheus.Desc
	resyncs      *prometheus.Desc
	controlLag   *prometheus.Desc
	rejected     *prometheus.Desc
}

func newCollector(n *Node) *collector {
	constLabels := prometheus.Labels{"node": n.cfg.ID}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("streamcluster_"+name, help, labels, constLabels)
	}
	return &collector{
		n:            n,
		members:      d("cluster_members", "Live members of the cluster as this node sees them, itself included."),
		ready:        d("node_ready", "1 when this node is ready (member, caught up, heartbeat acknowledged, minimumNodes reached)."),
		heartbeatAge: d("peer_heartbeat_age_seconds", "Seconds since the last control entry of each member (self: since the last acknowledged heartbeat).", "peer"),
		evictions:    d("evictions_total", "Peers this node evicted."),
		rejoins:      d("rejoins_total", "Times this node rejoined after being evicted or reset."),
		resyncs:      d("control_resyncs_total", "Full resyncs from the snapshot after a sequence gap or a lost group."),
		controlLag:   d("control_lag_entries", "Control entries written before this node's last acknowledged heartbeat and not applied yet."),
		rejected: d("control_rejected_total", "Control entries skipped because they are not valid streams envelopes, by reason "+
			"(malformed, unknown_version, unsigned, bad_signature).", "reason"),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.members, c.ready, c.heartbeatAge, c.evictions, c.rejoins, c.resyncs, c.controlLag, c.rejected} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	n := c.n
	r := n.codec.Rejected()
	for reason, v := range map[string]uint64{
		"malformed": r.Malformed, "unknown_version": r.UnknownVersion, "unsigned": r.Unsigned, "bad_signature": r.BadSignature,
	} {
		ch <- prometheus.MustNewConstMetric(c.rejected, prometheus.CounterValue, float64(v), reason)
	}
	now := time.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	ready := 0.0
	if n.readyLocked(now) {
		ready = 1
	}
	ch <- prometheus.MustNewConstMetric(c.members, prometheus.GaugeValue, float64(len(n.st.members)))
	ch <- prometheus.MustNewConstMetric(c.ready, prometheus.GaugeValue, ready)
	for id, m := range n.st.members {
		age := now.Sub(m.lastSeen)
		if id == n.cfg.ID {
			age = now.Sub(n.st.lastAck)
		}
		ch <- prometheus.MustNewConstMetric(c.heartbeatAge, prometheus.GaugeValue, age.Seconds(), id)
	}
	ch <- prometheus.MustNewConstMetric(c.evictions, prometheus.CounterValue, float64(n.st.evictions))
	ch <- prometheus.MustNewConstMetric(c.rejoins, prometheus.CounterValue, float64(n.st.rejoins))
	ch <- prometheus.MustNewConstMetric(c.resyncs, prometheus.CounterValue, float64(n.st.resyncs))
	ch <- prometheus.MustNewConstMetric(c.controlLag, prometheus.GaugeValue, float64(max(n.st.knownSeq-n.st.appliedSeq, 0)))
}
