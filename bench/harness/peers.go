package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrPeerSetup is wrapped when a peer cannot run because its dependencies
// are not installed; the message says what to run.
var ErrPeerSetup = errors.New("harness: peer not set up")

// PeerRun is one peer system (workload 7) measured on the run's Redis
// Cluster with the same pacing and latency method: publisher on server 1,
// one subscriber on server 2, each rate of Rates ∪ Ladder in turn.
type PeerRun struct {
	Peer    string `json:"peer"`
	Version string `json:"version"`
	Servers int    `json:"servers"`
	// Runs are the latency series, one per offered load (workload
	// "<peer>-cross-node", one subscriber).
	Runs []LatencyRun `json:"runs"`
	// MaxSustainedRate is the highest offered load that passed the ladder
	// rule together with every lower one (0: none); TopPassed when the top
	// passed.
	MaxSustainedRate int    `json:"maxSustainedRate"`
	TopPassed        bool   `json:"topPassed"`
	Error            string `json:"error,omitempty"`
}

// peerRates is every offered load a peer runs: the latency rates and the
// ladder, ascending.
func peerRates(cfg Config) []int {
	rates := slices.Concat(cfg.Rates, cfg.Ladder)
	slices.Sort(rates)
	return slices.Compact(rates)
}

// runSocketIO measures socket.io with @socket.io/redis-streams-adapter
// (bench/peers/socketio/peer.js, Node.js) on servers processes.
func runSocketIO(ctx context.Context, cfg Config, redis []string, servers int) PeerRun {
	run := PeerRun{Peer: "socketio", Version: "socket.io 4.8.3 + @socket.io/redis-streams-adapter 0.3.1", Servers: servers}
	dir := filepath.Join(cfg.PeersDir, "socketio")
	if _, err := exec.LookPath("node"); err != nil {
		run.Error = fmt.Errorf("%w: node not found: install Node.js ≥ 18, then run `cd %s && npm ci`", ErrPeerSetup, dir).Error()
		return run
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@socket.io", "redis-streams-adapter")); err != nil {
		run.Error = fmt.Errorf("%w: npm dependencies missing: run `cd %s && npm ci`", ErrPeerSetup, dir).Error()
		return run
	}
	return runPeer(ctx, cfg, run, dir, "node", "peer.js", redis)
}

// runCentrifuge measures Centrifuge with its Redis broker (default: plain
// PUBLISH) from bench/peers/centrifuge, a separate Go module built into
// tmpDir.
func runCentrifuge(ctx context.Context, cfg Config, redis []string, servers int, tmpDir string) PeerRun {
	run := PeerRun{Peer: "centrifuge", Version: "centrifuge v0.40.1, Redis broker (PUBLISH)", Servers: servers}
	dir := filepath.Join(cfg.PeersDir, "centrifuge")
	bin := filepath.Join(tmpDir, "centrifuge-peer")
	bctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	build := exec.CommandContext(bctx, "go", "build", "-o", bin, ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOFLAGS=-mod=readonly")
	if out, err := build.CombinedOutput(); err != nil {
		run.Error = fmt.Errorf("%w: go build in %s: %v: %s (run `cd %s && go mod download`)", ErrPeerSetup, dir, err, lastLines(string(out), 3), dir).Error()
		return run
	}
	return runPeer(ctx, cfg, run, dir, bin, "", redis)
}

// runPeer runs a peer's bench mode (program [script] bench ...) in dir and
// turns its JSON output into run.Runs.
func runPeer(ctx context.Context, cfg Config, run PeerRun, dir, program, script string, redis []string) PeerRun {
	var ports []string
	for range run.Servers {
		p, err := freePort()
		if err != nil {
			run.Error = err.Error()
			return run
		}
		ports = append(ports, strconv.Itoa(p))
	}
	rates := peerRates(cfg)
	var rs []string
	for _, r := range rates {
		rs = append(rs, strconv.Itoa(r))
	}
	// Bound: warm-up, every window with its drain, and server start-up.
	bound := 40*time.Second + time.Duration(len(rates))*(cfg.Duration+cfg.Drain+5*time.Second)
	cctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	var args []string
	if script != "" {
		args = append(args, script)
	}
	args = append(args, "bench", "--redis", strings.Join(redis, ","),
		"--ports", strings.Join(ports, ","), "--rates", strings.Join(rs, ","),
		"--secs", strconv.FormatFloat(cfg.Duration.Seconds(), 'f', -1, 64),
		"--drain", strconv.FormatFloat(cfg.Drain.Seconds(), 'f', -1, 64))
	cmd := exec.CommandContext(cctx, program, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		run.Error = fmt.Sprintf("%s: %v: %s", run.Peer, err, lastLines(stderr.String(), 5))
		return run
	}
	var res struct {
		Runs []struct {
			Rate        int       `json:"rate"`
			Sent        int       `json:"sent"`
			Secs        float64   `json:"secs"`
			LatenciesUs []float64 `json:"latenciesUs"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		run.Error = fmt.Sprintf("peer.js output: %v", err)
		return run
	}
	passing := true
	for _, r := range res.Runs {
		lat := make([]time.Duration, len(r.LatenciesUs))
		for i, us := range r.LatenciesUs {
			lat[i] = time.Duration(us * float64(time.Microsecond))
		}
		l := LatencyRun{Workload: run.Peer + "-cross-node", Nodes: run.Servers, PublishNode: 0, SubscribeNodes: []int{1},
			SubscribersPerNode: 1, TargetRate: r.Rate, Sent: r.Sent, Expected: int64(r.Sent), Delivered: int64(len(lat)),
			Lost: max(0, int64(r.Sent)-int64(len(lat))), Latency: Summarize(lat), Histogram: NewHistogram(lat)}
		if r.Secs > 0 {
			l.SentRate = float64(r.Sent) / r.Secs
		}
		run.Runs = append(run.Runs, l)
		passing = passing && sustained(l)
		if passing {
			run.MaxSustainedRate = r.Rate
		}
	}
	run.TopPassed = passing && len(res.Runs) > 0 && res.Runs[len(res.Runs)-1].Rate == rates[len(rates)-1]
	return run
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
