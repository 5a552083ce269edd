// Command streamcluster runs one Streamcluster node (`streamcluster serve`)
// and small operator subcommands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/rueidis"

	"github.com/streamcluster/streamcluster/healthapi"
	"github.com/streamcluster/streamcluster/node"
	"github.com/streamcluster/streamcluster/realtime/cluster"
	"github.com/streamcluster/streamcluster/streams"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// shutdownTimeout bounds the graceful stop: HTTP drain, API close, leave.
const shutdownTimeout = 10 * time.Second

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: streamcluster <command> [flags]

commands:
  serve     run one cluster node (streamcluster serve -h for its flags)
  health    probe the local node's /_ready: exit 0 when ready, 1 otherwise
  version   print the version
`)
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		cfg, err := LoadConfig(args[1:], getenv, stderr)
		if errors.Is(err, flagHelp) {
			return 0
		}
		if err != nil {
			fmt.Fprintln(stderr, "streamcluster:", err)
			return 2
		}
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		if err := serve(ctx, cfg, stderr); err != nil {
			fmt.Fprintln(stderr, "streamcluster:", err)
			return 1
		}
		return 0
	case "health":
		return health(args[1:], getenv, stderr)
	case "version":
		fmt.Fprintln(stdout, version)
		return 0
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	}
	usage(stderr)
	return 2
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, fmt.Errorf("%w: log level %q: %w", ErrConfig, s, err)
	}
	return l, nil
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	level, _ := parseLevel(cfg.LogLevel) // validated
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// connect builds the Redis client, retrying while Redis is unreachable.
func connect(ctx context.Context, cfg Config, log *slog.Logger) (rueidis.Client, error) {
	var lastErr error
	for attempt := 1; attempt <= cfg.RetryJoin; attempt++ {
		client, err := streams.NewClient(cfg.streamsConfig())
		if err == nil {
			return client, nil
		}
		lastErr = err
		log.Warn("cannot reach Redis yet", slog.Int("attempt", attempt), slog.Any("err", err))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(cfg.JoinAttemptInterval):
		}
	}
	return nil, lastErr
}

// serve runs one node until ctx is done, then leaves the cluster.
// shutdownEvent is the cluster event of POST /_plugin/cluster/shutdown.
const shutdownEvent = "admin:shutdown"

func serve(ctx context.Context, cfg Config, logOut io.Writer) error {
	log := newLogger(cfg, logOut)

	// Listen first: a busy port fails before anything joins.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	defer ln.Close()

	client, err := connect(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	defer client.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ncfg := cfg.nodeConfig()
	ncfg.Version = version
	ncfg.Logger = log
	ncfg.Registerer = reg
	n, err := node.New(client, ncfg)
	if err != nil {
		return err
	}
	log = log.With(slog.String("node", n.ID()))
	if cfg.Secret == "" {
		log.Warn("no shared secret: control entries are neither signed nor verified, so anything that can write to Redis can write membership events; set SC_SECRET (or plugins.cluster.secret) on every node")
	}

	// The cluster-wide shutdown: every node (this one included) cancels
	// its serve context on the event, then stops gracefully like on SIGTERM.
	ctx, cancelServe := context.WithCancel(ctx)
	defer cancelServe()
	events, err := cluster.NewEvents(n, log)
	if err != nil {
		return err
	}
	events.On(shutdownEvent, func(sender string, _ []byte) {
		log.Info("cluster-wide shutdown", slog.String("by", sender))
		cancelServe()
	})

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	healthapi.Register(e, healthapi.Config{
		Shutdown: func(ctx context.Context) error { return events.Broadcast(ctx, shutdownEvent, nil) },
		Cluster:  n,
		Ping: func(ctx context.Context) error {
			return client.Do(ctx, client.B().Ping().Build()).Error()
		},
		Gatherer: reg,
		Logger:   log,
	})
	closeAPI, err := mountAPI(ctx, e, apiDeps{
		Redis: client, Logger: log, Ready: n.Ready, NodeID: n.ID(), Prefix: cfg.Prefix, Node: n, Registerer: reg,
		Storage: cfg.Storage, ESURL: cfg.ESURL, WaitForMissingRooms: cfg.WaitForMissingRooms,
	})
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}

	runCtx, stopNode := context.WithCancel(context.Background())
	defer stopNode()
	nodeErr := make(chan error, 1)
	go func() { nodeErr <- n.Run(runCtx) }()

	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	httpErr := make(chan error, 1)
	go func() { httpErr <- srv.Serve(ln) }()
	log.Info("serving", slog.String("listen", ln.Addr().String()), slog.String("version", version),
		slog.Any("redis", cfg.Redis), slog.Int("minimumNodes", cfg.MinimumNodes), slog.Duration("heartbeat", cfg.Heartbeat))

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-nodeErr:
		runErr = err // join failed, or Run ended unexpectedly
		nodeErr <- nil
	case err := <-httpErr:
		runErr = fmt.Errorf("http: %w", err)
		httpErr <- nil
	}

	// Graceful stop: stop accepting clients, close the API, leave the
	// cluster (NodeLeft, group and inbox deleted), stop the node.
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	drainCtx, cancelDrain := context.WithTimeout(sctx, shutdownTimeout/3)
	if err := srv.Shutdown(drainCtx); err != nil {
		log.Warn("http shutdown", slog.Any("err", err))
		_ = srv.Close()
	}
	cancelDrain()
	<-httpErr
	if err := closeAPI(sctx); err != nil {
		log.Warn("api close", slog.Any("err", err))
	}
	if err := n.Leave(sctx); err != nil {
		log.Warn("leave", slog.Any("err", err))
		if runErr == nil {
			runErr = err
		}
	}
	stopNode()
	if err := <-nodeErr; err != nil && runErr == nil {
		runErr = err
	}
	log.Info("stopped")
	return runErr
}
