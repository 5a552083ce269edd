package harness

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ErrInvalidConfig is wrapped by Config.Validate errors.
var ErrInvalidConfig = errors.New("harness: invalid config")

// Config parameterizes a run. Zero fields take the defaults of the mode
// (Quick or full) when passed through WithDefaults.
type Config struct {
	// Binary is the streamcluster binary (default "bin/streamcluster").
	Binary string
	// OutDir receives <stamp>.json, <stamp>.md and the SVG plots
	// (default "bench/results").
	OutDir string
	// Quick selects the about-a-minute mode: fewer rates, shorter windows,
	// one subscriber count, one cluster size, one repetition.
	Quick bool
	// Rates are the offered loads in messages per second
	// (quick: 1000, 5000; full: 1000, 5000, 10000).
	Rates []int
	// Duration is the measured window per rate (quick 2 s, full 5 s).
	Duration time.Duration
	// Drain is how long receivers may still wait for stragglers after a
	// window (quick 1 s, full 3 s).
	Drain time.Duration
	// Subscribers are the WebSocket subscribers per subscribing node
	// (default 1, 10).
	Subscribers []int
	// RealtimeNodes are the cluster sizes of the realtime latency workload
	// (quick: 1; full: 1, 3).
	RealtimeNodes []int
	// CrossNode also runs the realtime workload with the publisher on node 0
	// and the subscribers on node 1 (needs RealtimeNodes entries ≥ 2 and the
	// cluster-wide realtime path of issue 6 in the binary). Default off.
	CrossNode bool
	// Ladder is the fan-out ladder of offered loads in msg/s, climbed on
	// each realtime cluster size until a step is not sustained (quick:
	// 10000, 20000; full: 2000, 5000, 10000, 20000, 50000).
	Ladder []int
	// LadderSubscribers is the number of subscribers per subscribing node
	// during the ladder (default 10).
	LadderSubscribers int
	// PingCount is the number of sequential PINGs (quick 2000, full 5000).
	PingCount int
	// Heartbeat of the failure-detection and join workloads (default 1 s).
	Heartbeat time.Duration
	// MembershipNodes are the cluster sizes of the failure-detection and
	// join workloads: kill one of n nodes; join one node to n−1 running
	// ones (quick: 3; full: 3, 10).
	MembershipNodes []int
	// FailureRuns and JoinRuns repeat those workloads per size (quick 1,
	// full 3).
	FailureRuns int
	JoinRuns    int
	// JoinRooms are the room counts registered before a join with rooms
	// (workload 5), each run once on MembershipNodes[0]−1 existing nodes
	// (quick: 10000; full: 10000, 100000).
	JoinRooms []int
	// RoomSetupTimeout bounds the registration of JoinRooms; a run that
	// does not finish in time reports what it reached (default quick 30 s,
	// full 120 s).
	RoomSetupTimeout time.Duration
	// ChurnClients are subscribe/unsubscribe loops per node in the churn
	// workload (workload 4, default 4); it runs on every realtime cluster
	// size ≥ 2 for Duration.
	ChurnClients int
	// Peers is "on" or "off": measure the peer systems of workload 7 under
	// PeersDir on the same Redis Cluster with max(RealtimeNodes, 2) servers
	// (default: off in quick mode, on in full mode).
	Peers string
	// PeersDir holds the peers (default "bench/peers").
	PeersDir string
	// Timeout bounds the wait for a node to become ready or be evicted
	// (default 20 s).
	Timeout time.Duration
	// Logger receives progress lines (default: discard).
	Logger *slog.Logger
}

// WithDefaults returns c with every zero field set to its mode's default.
func (c Config) WithDefaults() Config {
	if c.Binary == "" {
		c.Binary = "bin/streamcluster"
	}
	if c.OutDir == "" {
		c.OutDir = "bench/results"
	}
	pick := func(quick, full int) int {
		if c.Quick {
			return quick
		}
		return full
	}
	if len(c.Rates) == 0 {
		c.Rates = []int{1000, 5000}
		if !c.Quick {
			c.Rates = append(c.Rates, 10000)
		}
	}
	if c.Duration == 0 {
		c.Duration = time.Duration(pick(2, 5)) * time.Second
	}
	if c.Drain == 0 {
		c.Drain = time.Duration(pick(1, 3)) * time.Second
	}
	if len(c.Subscribers) == 0 {
		c.Subscribers = []int{1, 10}
	}
	if len(c.RealtimeNodes) == 0 {
		c.RealtimeNodes = []int{1}
		if !c.Quick {
			c.RealtimeNodes = append(c.RealtimeNodes, 3)
		}
	}
	if len(c.Ladder) == 0 {
		c.Ladder = []int{10000, 20000}
		if !c.Quick {
			c.Ladder = []int{2000, 5000, 10000, 20000, 50000}
		}
	}
	if c.LadderSubscribers == 0 {
		c.LadderSubscribers = 10
	}
	if c.PingCount == 0 {
		c.PingCount = pick(2000, 5000)
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = time.Second
	}
	if len(c.MembershipNodes) == 0 {
		c.MembershipNodes = []int{3}
		if !c.Quick {
			c.MembershipNodes = append(c.MembershipNodes, 10)
		}
	}
	if c.FailureRuns == 0 {
		c.FailureRuns = pick(1, 3)
	}
	if c.JoinRuns == 0 {
		c.JoinRuns = pick(1, 3)
	}
	if c.JoinRooms == nil {
		c.JoinRooms = []int{10000}
		if !c.Quick {
			c.JoinRooms = append(c.JoinRooms, 100000)
		}
	}
	if c.RoomSetupTimeout == 0 {
		c.RoomSetupTimeout = time.Duration(pick(30, 120)) * time.Second
	}
	if c.ChurnClients == 0 {
		c.ChurnClients = 4
	}
	if c.Peers == "" {
		c.Peers = "on"
		if c.Quick {
			c.Peers = "off"
		}
	}
	if c.PeersDir == "" {
		c.PeersDir = "bench/peers"
	}
	if c.Timeout == 0 {
		c.Timeout = 20 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate checks a config that went through WithDefaults. Bounds keep every
// loop of a run finite and the machine usable.
func (c Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, a...)...)
	}
	for _, r := range c.Rates {
		if r < 1 || r > 200_000 {
			return bad("rate %d msg/s outside 1..200000", r)
		}
	}
	if c.Duration < 100*time.Millisecond || c.Duration > 5*time.Minute {
		return bad("duration %s outside 100ms..5m", c.Duration)
	}
	if c.Drain < 0 || c.Drain > time.Minute {
		return bad("drain %s outside 0..1m", c.Drain)
	}
	for i, r := range c.Ladder {
		if r < 1 || r > 200_000 || (i > 0 && r <= c.Ladder[i-1]) {
			return bad("ladder %v: rates must increase within 1..200000", c.Ladder)
		}
	}
	if c.LadderSubscribers < 1 || c.LadderSubscribers > 1000 {
		return bad("ladder subscribers %d outside 1..1000", c.LadderSubscribers)
	}
	for _, s := range c.Subscribers {
		if s < 1 || s > 1000 {
			return bad("subscribers per node %d outside 1..1000", s)
		}
	}
	for _, n := range c.RealtimeNodes {
		if n < 1 || n > 20 {
			return bad("realtime cluster size %d outside 1..20", n)
		}
	}
	for _, n := range c.MembershipNodes {
		if n < 2 || n > 20 {
			return bad("membership cluster size %d outside 2..20", n)
		}
	}
	if c.PingCount < 1 || c.PingCount > 1_000_000 {
		return bad("ping count %d outside 1..1000000", c.PingCount)
	}
	if c.Heartbeat < 10*time.Millisecond || c.Heartbeat > time.Minute {
		return bad("heartbeat %s outside 10ms..1m", c.Heartbeat)
	}
	if c.FailureRuns < 0 || c.FailureRuns > 20 || c.JoinRuns < 0 || c.JoinRuns > 20 {
		return bad("failure/join runs outside 0..20")
	}
	if c.Timeout < time.Second || c.Timeout > 5*time.Minute {
		return bad("timeout %s outside 1s..5m", c.Timeout)
	}
	for _, n := range c.JoinRooms {
		if n < 0 || n > 1_000_000 {
			return bad("join rooms %d outside 0..1000000", n)
		}
	}
	if c.RoomSetupTimeout < time.Second || c.RoomSetupTimeout > 10*time.Minute {
		return bad("room setup timeout %s outside 1s..10m", c.RoomSetupTimeout)
	}
	if c.ChurnClients < 1 || c.ChurnClients > 100 {
		return bad("churn clients %d outside 1..100", c.ChurnClients)
	}
	if c.Peers != "on" && c.Peers != "off" {
		return bad("peers %q: want on or off", c.Peers)
	}
	if c.Binary == "" || c.OutDir == "" {
		return bad("binary and output directory are required")
	}
	return nil
}
