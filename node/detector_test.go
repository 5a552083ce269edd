package node

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDetectorSuspects(t *testing.T) {
	const timeout = 3 * time.Second
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

	type step struct {
		op  string // seen, ack, fail, forget, reset
		id  string
		inc uint64
		at  int // ms after t0
	}
	tests := []struct {
		desc    string
		steps   []step
		now     int
		want    []Suspect
		healthy bool
	}{
		{
			desc:    "peer heard recently is not suspected",
			steps:   []step{{op: "ack", at: 0}, {op: "seen", id: "b", inc: 1, at: 0}, {op: "ack", at: 2500}, {op: "seen", id: "b", inc: 1, at: 2500}},
			now:     3000,
			healthy: true,
		},
		{
			desc:    "peer silent past the timeout is suspected",
			steps:   []step{{op: "ack", at: 0}, {op: "seen", id: "b", inc: 7, at: 0}, {op: "ack", at: 3000}},
			now:     3001,
			want:    []Suspect{{ID: "b", Incarnation: 7, Silence: 3001 * time.Millisecond}},
			healthy: true,
		},
		{
			desc:    "exactly at the timeout is not yet suspected",
			steps:   []step{{op: "ack", at: 0}, {op: "seen", id: "b", inc: 1, at: 0}, {op: "ack", at: 2900}},
			now:     3000,
			healthy: true,
		},
		{
			desc:    "no suspicion while this node cannot reach Redis",
			steps:   []step{{op: "ack", at: 0}, {op: "seen", id: "b", inc: 1, at: 0}, {op: "fail", at: 1000}},
			now:     10000,
			healthy: false,
		},
		{
			desc: "after an outage, peers get a timeout plus the outage's length from the recovery",
			steps: []step{
				{op: "ack", at: 0}, {op: "seen", id: "b", inc: 1, at: 0},
				{op: "fail", at: 1000}, {op: "fail", at: 1500}, {op: "ack", at: 3000}, {op: "ack", at: 7000},
			},
			now:     7000, // recovery 3000 + outage 2000 + timeout 3000 = 8000
			healthy: true,
		},
		{
			desc: "after an outage, a peer still silent past the grace is suspected",
			steps: []step{
				{op: "ack", at: 0}, {op: "seen", id: "b", inc: 1, at: 0},
				{op: "fail", at: 1000}, {op: "fail", at: 1500}, {op: "ack", at: 3000}, {op: "ack", at: 8000},
			},
			now:     8001,
			want:    []Suspect{{ID: "b", Incarnation: 1, Silence: 3001 * time.Millisecond}},
			healthy: true,
		},
		{
			desc: "the outage grace is capped at MaxOutageGrace timeouts",
			steps: []step{
				{op: "ack", at: 0}, {op: "seen", id: "b", inc: 1, at: 0},
				{op: "fail", at: 1000}, {op: "ack", at: 61000}, {op: "ack", at: 70000},
			},
			now:     70001, // 61000 + 6000 + 3000
			want:    []Suspect{{ID: "b", Incarnation: 1, Silence: 3001 * time.Millisecond}},
			healthy: true,
		},
		{
			desc: "a peer heard after the recovery counts from its entry",
			steps: []step{
				{op: "ack", at: 0}, {op: "fail", at: 1000}, {op: "ack", at: 2000},
				{op: "seen", id: "b", inc: 1, at: 4000}, {op: "ack", at: 7000},
			},
			now:     7001,
			want:    []Suspect{{ID: "b", Incarnation: 1, Silence: 3001 * time.Millisecond}},
			healthy: true,
		},
		{
			desc:    "own heartbeat not acknowledged within the timeout: unhealthy, no suspicion",
			steps:   []step{{op: "ack", at: 0}, {op: "seen", id: "b", inc: 1, at: 0}},
			now:     3500,
			healthy: false,
		},
		{
			desc:    "never acknowledged: unhealthy",
			steps:   []step{{op: "seen", id: "b", inc: 1, at: 0}},
			now:     5000,
			healthy: false,
		},
		{
			desc:    "a forgotten peer is never suspected",
			steps:   []step{{op: "ack", at: 0}, {op: "seen", id: "b", inc: 1, at: 0}, {op: "forget", id: "b", at: 100}, {op: "ack", at: 4000}},
			now:     4000,
			healthy: true,
		},
		{
			desc:    "reset drops every peer",
			steps:   []step{{op: "ack", at: 0}, {op: "seen", id: "b", inc: 1, at: 0}, {op: "seen", id: "c", inc: 1, at: 0}, {op: "reset", at: 100}, {op: "ack", at: 4000}},
			now:     4000,
			healthy: true,
		},
		{
			desc: "a new incarnation replaces the old one; suspects sorted by id",
			steps: []step{
				{op: "ack", at: 0}, {op: "seen", id: "c", inc: 1, at: 0}, {op: "seen", id: "b", inc: 1, at: 0},
				{op: "seen", id: "b", inc: 2, at: 500}, {op: "ack", at: 4000},
			},
			now: 4000,
			want: []Suspect{
				{ID: "b", Incarnation: 2, Silence: 3500 * time.Millisecond},
				{ID: "c", Incarnation: 1, Silence: 4000 * time.Millisecond},
			},
			healthy: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			d := NewDetector(timeout)
			for _, s := range tt.steps {
				switch s.op {
				case "seen":
					d.Seen(s.id, s.inc, at(s.at))
				case "ack":
					d.Acked(at(s.at))
				case "fail":
					d.Failed(at(s.at))
				case "forget":
					d.Forget(s.id)
				case "reset":
					d.Reset()
				default:
					t.Fatalf("unknown op %q", s.op)
				}
			}
			assert.Equal(t, tt.want, d.Suspects(at(tt.now)))
			assert.Equal(t, tt.healthy, d.Healthy(at(tt.now)))
		})
	}
}

func TestDetectorNextCheck(t *testing.T) {
	const timeout = 3 * time.Second
	t0 := time.Unix(1000, 0)
	d := NewDetector(timeout)
	_, ok := d.NextCheck()
	assert.False(t, ok, "never acknowledged")

	d.Acked(t0)
	_, ok = d.NextCheck()
	assert.False(t, ok, "no peer")

	d.Seen("b", 1, t0.Add(500*time.Millisecond))
	d.Seen("c", 1, t0.Add(200*time.Millisecond))
	at, ok := d.NextCheck()
	require.True(t, ok)
	assert.Equal(t, t0.Add(3201*time.Millisecond), at, "earliest peer, just past the timeout")
	assert.Empty(t, d.Suspects(at.Add(-time.Millisecond)))
	d.Acked(at)
	assert.Equal(t, []Suspect{{ID: "c", Incarnation: 1, Silence: 3001 * time.Millisecond}}, d.Suspects(at))

	// After an outage of 1 s, counted from the recovery plus 1 s.
	d.Failed(t0.Add(4 * time.Second))
	_, ok = d.NextCheck()
	assert.False(t, ok, "not healthy")
	d.Acked(t0.Add(5 * time.Second))
	at, ok = d.NextCheck()
	require.True(t, ok)
	assert.Equal(t, t0.Add(9001*time.Millisecond), at)
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		desc    string
		cfg     Config
		wantErr string
	}{
		{desc: "defaults are valid", cfg: Config{}},
		{desc: "eviction equal to heartbeat", cfg: Config{Heartbeat: time.Second, EvictionTimeout: time.Second}, wantErr: "must be larger than the heartbeat"},
		{desc: "tiny heartbeat", cfg: Config{Heartbeat: time.Millisecond}, wantErr: "below 10ms"},
		{desc: "negative minimum nodes", cfg: Config{MinimumNodes: -1}, wantErr: "at least 1"},
		{desc: "id with a colon", cfg: Config{ID: "a:b"}, wantErr: "must not contain"},
		{desc: "prefix with a brace", cfg: Config{Prefix: "a{b"}, wantErr: "must not contain braces"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, ErrInvalidConfig)
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
	assert.Equal(t, 3*time.Second, Config{}.withDefaults().EvictionTimeout)
	assert.Equal(t, 600*time.Millisecond, Config{Heartbeat: 200 * time.Millisecond}.withDefaults().EvictionTimeout)
}
