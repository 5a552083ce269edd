package harness

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
)

// Run executes every workload of cfg and writes the result files into
// cfg.OutDir. It returns the report and the paths written. A workload that
// fails is recorded in the report (Error fields, Report.Errors) and the run
// goes on; Run itself fails only when nothing can be measured (bad config,
// no Redis Cluster, no binary) or the files cannot be written.
func Run(ctx context.Context, cfg Config) (*Report, []string, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	if _, err := os.Stat(cfg.Binary); err != nil {
		return nil, nil, fmt.Errorf("harness: binary %s: %w (run make build)", cfg.Binary, err)
	}
	log := cfg.Logger
	version, err := exec.CommandContext(ctx, cfg.Binary, "version").Output()
	if err != nil {
		return nil, nil, fmt.Errorf("harness: %s version: %w", cfg.Binary, err)
	}
	start := time.Now()
	r := &Report{
		Stamp: start.UTC().Format("20060102T150405Z"), Quick: cfg.Quick, Machine: machine(),
		BinaryVersion: strings.TrimSpace(string(version)),
		Settings: Settings{
			Rates: cfg.Rates, SecondsPerRate: cfg.Duration.Seconds(), DrainSeconds: cfg.Drain.Seconds(),
			Subscribers: cfg.Subscribers, RealtimeNodes: cfg.RealtimeNodes, CrossNode: cfg.CrossNode,
			Ladder: cfg.Ladder, LadderSubscribers: cfg.LadderSubscribers,
			PingCount: cfg.PingCount, HeartbeatMs: float64(cfg.Heartbeat) / 1e6, MembershipNodes: cfg.MembershipNodes,
			JoinRooms: cfg.JoinRooms, RoomSetupSeconds: cfg.RoomSetupTimeout.Seconds(), ChurnClients: cfg.ChurnClients, Peers: cfg.Peers,
		},
		Baselines: []LatencyRun{}, Realtime: []LatencyRun{}, Fanout: []FanoutRun{}, Failure: []FailureRun{}, Join: []JoinRun{}, Churn: []ChurnRun{}, Peers: []PeerRun{},
	}

	logDir, err := os.MkdirTemp("", "scbench-logs-")
	if err != nil {
		return nil, nil, err
	}
	log.Info("node logs", slog.String("dir", logDir))

	log.Info("starting Redis Cluster")
	rc, err := rediscluster.Start(ctx, rediscluster.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("harness: redis cluster: %w", err)
	}
	defer rc.Close()
	client, err := rc.Client()
	if err != nil {
		return nil, nil, err
	}
	defer client.Close()
	clk := newClock()
	meter := &cpuMeter{}
	for _, addr := range rc.Addrs() {
		c, err := pinnedClient(addr)
		if err != nil {
			return nil, nil, err
		}
		defer c.Close()
		meter.redis = append(meter.redis, c)
	}

	log.Info("baseline: ping")
	r.Baselines = append(r.Baselines, runPing(ctx, cfg, client))
	log.Info("baseline: xadd → xreadgroup")
	r.Baselines = append(r.Baselines, runXadd(ctx, cfg, clk, meter, client)...)
	log.Info("baseline: publish → subscribe, same master")
	r.Baselines = append(r.Baselines, runPubSub(ctx, cfg, clk, meter, rc, false)...)
	log.Info("baseline: publish → subscribe, across the cluster bus")
	r.Baselines = append(r.Baselines, runPubSub(ctx, cfg, clk, meter, rc, true)...)

	base := nodeSpec{Binary: cfg.Binary, Redis: rc.Addrs(), LogDir: logDir}
	for i, n := range cfg.RealtimeNodes {
		spec := base
		spec.Prefix = phasePrefix("rt", i)
		log.Info("realtime latency", slog.Int("nodes", n))
		nodes, err := startNodes(ctx, spec, n, cfg.Timeout)
		if err != nil {
			r.Errors = append(r.Errors, fmt.Sprintf("realtime with %d nodes: %v", n, err))
			continue
		}
		for _, subs := range cfg.Subscribers {
			r.Realtime = append(r.Realtime, runRealtime(ctx, cfg, clk, meter, nodes, realtimeTopology{
				Workload: "realtime-same-node", PublishNode: 0, SubscribeNodes: []int{0}, Subscribers: subs, Rates: cfg.Rates})...)
			if cfg.CrossNode && n >= 2 {
				r.Realtime = append(r.Realtime, runRealtime(ctx, cfg, clk, meter, nodes, realtimeTopology{
					Workload: "realtime-cross-node", PublishNode: 0, SubscribeNodes: []int{1}, Subscribers: subs, Rates: cfg.Rates})...)
			}
		}
		log.Info("fan-out ladder", slog.Int("nodes", n))
		r.Fanout = append(r.Fanout, runFanout(ctx, cfg, clk, meter, nodes, realtimeTopology{
			Workload: "fanout-same-node", PublishNode: 0, SubscribeNodes: []int{0}, Subscribers: cfg.LadderSubscribers}))
		if cfg.CrossNode && n >= 2 {
			// Every node but the publisher's subscribes: cluster-wide fan-out.
			var others []int
			for k := 1; k < n; k++ {
				others = append(others, k)
			}
			r.Fanout = append(r.Fanout, runFanout(ctx, cfg, clk, meter, nodes, realtimeTopology{
				Workload: "fanout-cross-node", PublishNode: 0, SubscribeNodes: others, Subscribers: cfg.LadderSubscribers}))
		}
		if n >= 2 {
			log.Info("subscription churn", slog.Int("nodes", n))
			r.Churn = append(r.Churn, runChurn(ctx, cfg, nodes))
		}
		stopNodes(nodes)
	}

	phase := 0
	for _, n := range cfg.MembershipNodes {
		for i := range cfg.FailureRuns {
			spec := base
			spec.Prefix, spec.Heartbeat = phasePrefix("fd", phase), cfg.Heartbeat
			phase++
			log.Info("failure detection", slog.Int("nodes", n), slog.Int("run", i))
			r.Failure = append(r.Failure, runFailure(ctx, cfg, spec, n))
		}
		for i := range cfg.JoinRuns {
			spec := base
			spec.Prefix, spec.Heartbeat = phasePrefix("join", phase), cfg.Heartbeat
			phase++
			log.Info("join", slog.Int("existing", n-1), slog.Int("run", i))
			r.Join = append(r.Join, runJoin(ctx, cfg, spec, n-1))
		}
	}

	for _, rooms := range cfg.JoinRooms {
		if rooms == 0 || len(cfg.MembershipNodes) == 0 {
			continue
		}
		spec := base
		spec.Prefix, spec.Heartbeat = phasePrefix("joinrooms", phase), cfg.Heartbeat
		phase++
		existing := cfg.MembershipNodes[0] - 1
		log.Info("join with rooms", slog.Int("existing", existing), slog.Int("rooms", rooms))
		r.Join = append(r.Join, runJoinRooms(ctx, cfg, spec, existing, rooms))
	}

	if cfg.Peers == "on" {
		servers := max(2, slices.Max(cfg.RealtimeNodes))
		log.Info("peer: socket.io + redis-streams-adapter", slog.Int("servers", servers))
		r.Peers = append(r.Peers, runSocketIO(ctx, cfg, rc.Addrs(), servers))
		log.Info("peer: centrifuge, Redis broker", slog.Int("servers", servers))
		r.Peers = append(r.Peers, runCentrifuge(ctx, cfg, rc.Addrs(), servers, logDir))
	}

	httpClient.CloseIdleConnections()
	listHTTP.CloseIdleConnections()
	r.Machine.LoadEnd = loadAvg()
	r.Goals = Goals(r)
	r.DurationSeconds = time.Since(start).Round(100 * time.Millisecond).Seconds()
	paths, err := writeFiles(cfg.OutDir, r)
	if err != nil {
		return r, paths, err
	}
	if r.failed() {
		log.Warn("some workloads failed; node logs kept", slog.String("dir", logDir))
		return r, paths, nil
	}
	if err := os.RemoveAll(logDir); err != nil {
		log.Warn("remove node logs", slog.Any("err", err))
	}
	return r, paths, nil
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH, LoadStart: loadAvg()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if out, err := exec.Command("redis-server", "--version").Output(); err == nil {
		m.Redis = strings.TrimSpace(string(out))
		if i := strings.Index(m.Redis, " sha="); i > 0 {
			m.Redis = m.Redis[:i]
		}
	}
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		m.GitRevision = strings.TrimSpace(string(out))
	}
	return m
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// failed reports whether any workload recorded an error.
func (r *Report) failed() bool {
	if len(r.Errors) > 0 {
		return true
	}
	for _, l := range append(append([]LatencyRun{}, r.Baselines...), r.Realtime...) {
		if l.Error != "" {
			return true
		}
	}
	for _, f := range r.Fanout {
		if len(f.Steps) == 0 || (len(f.Steps) == 1 && f.Steps[0].Latency.Count == 0) {
			return true // could not even start
		}
	}
	for _, f := range r.Failure {
		if f.Error != "" {
			return true
		}
	}
	for _, j := range r.Join {
		if j.Error != "" {
			return true
		}
	}
	for _, p := range r.Peers {
		if p.Error != "" {
			return true
		}
	}
	for _, c := range r.Churn {
		if c.Error != "" {
			return true
		}
	}
	return false
}
