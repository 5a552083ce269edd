// Command scbench runs Streamcluster's benchmark harness (package
// bench/harness): it starts a local Redis Cluster and streamcluster nodes
// from the built binary, measures the baselines and the workloads, writes
// bench/results/<stamp>[-quick].{json,md} and two SVG plots, and prints the
// Markdown table.
//
//	go run ./bench/cmd/scbench --quick          # about a minute
//	go run ./bench/cmd/scbench                  # full run
//
// Run it from the repository root after `make build`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/streamcluster/streamcluster/bench/harness"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "scbench:", err)
		os.Exit(1)
	}
}

func intList(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("bad list %q: %w", s, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func run(args []string) error {
	fs := flag.NewFlagSet("scbench", flag.ContinueOnError)
	var cfg harness.Config
	fs.BoolVar(&cfg.Quick, "quick", false, "about-a-minute mode")
	fs.StringVar(&cfg.Binary, "binary", "bin/streamcluster", "streamcluster binary")
	fs.StringVar(&cfg.OutDir, "out", "bench/results", "result directory")
	rates := fs.String("rates", "", "offered loads, msg/s, comma-separated (default quick 1000,5000; full 1000,5000,10000)")
	subs := fs.String("subscribers", "", "subscribers per node, comma-separated (default 1,10)")
	nodes := fs.String("nodes", "", "cluster sizes of the realtime workload (default quick 1; full 1,3)")
	rerender := fs.String("rerender", "", "only rewrite the Markdown and SVG files of this result JSON")
	ladder := fs.String("ladder", "", "fan-out ladder, msg/s, increasing (default quick 10000,20000; full 2000,5000,10000,20000,50000)")
	fs.IntVar(&cfg.LadderSubscribers, "ladder-subscribers", 0, "subscribers per subscribing node on the ladder (default 10)")
	membership := fs.String("membership-nodes", "", "cluster sizes of the failure and join workloads (default quick 3; full 3,10)")
	fs.DurationVar(&cfg.Duration, "duration", 0, "measured window per rate (default quick 2s, full 5s)")
	fs.DurationVar(&cfg.Drain, "drain", 0, "wait for stragglers after each window (default quick 1s, full 3s)")
	fs.BoolVar(&cfg.CrossNode, "cross-node", false, "also publish on node 0 to subscribers on node 1 (needs --nodes ≥ 2 and issue 6 in the binary)")
	fs.IntVar(&cfg.PingCount, "ping-count", 0, "sequential PINGs (default quick 2000, full 5000)")
	fs.DurationVar(&cfg.Heartbeat, "heartbeat", 0, "heartbeat of the failure and join workloads (default 1s)")
	fs.IntVar(&cfg.FailureRuns, "failure-runs", 0, "kill -9 repetitions (default quick 1, full 3)")
	fs.IntVar(&cfg.JoinRuns, "join-runs", 0, "join repetitions (default quick 1, full 3)")
	joinRooms := fs.String("join-rooms", "", "rooms registered before a join, comma-separated, 0 to skip (default quick 10000; full 10000,100000)")
	fs.DurationVar(&cfg.RoomSetupTimeout, "room-setup-timeout", 0, "bound on registering the join rooms (default quick 30s, full 2m)")
	fs.IntVar(&cfg.ChurnClients, "churn-clients", 0, "subscribe/unsubscribe loops per node in the churn workload (default 4)")
	fs.StringVar(&cfg.Peers, "peers", "", "on|off: measure the peers of bench/peers (default quick off, full on)")
	fs.DurationVar(&cfg.Timeout, "timeout", 0, "bound on readiness and eviction waits (default 20s)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rerender != "" {
		paths, err := harness.Rerender(*rerender)
		for _, p := range paths {
			fmt.Println("wrote", p)
		}
		return err
	}
	var err error
	if cfg.Rates, err = intList(*rates); err != nil {
		return err
	}
	if cfg.Subscribers, err = intList(*subs); err != nil {
		return err
	}
	if cfg.RealtimeNodes, err = intList(*nodes); err != nil {
		return err
	}
	if cfg.Ladder, err = intList(*ladder); err != nil {
		return err
	}
	if cfg.MembershipNodes, err = intList(*membership); err != nil {
		return err
	}
	if cfg.JoinRooms, err = intList(*joinRooms); err != nil {
		return err
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	r, paths, err := harness.Run(ctx, cfg)
	if err != nil {
		return err
	}
	base := r.FileBase()
	fmt.Print(harness.Markdown(r, base+"-latency.svg", base+"-load.svg"))
	for _, p := range paths {
		cfg.Logger.Info("wrote", slog.String("file", p))
	}
	return nil
}
