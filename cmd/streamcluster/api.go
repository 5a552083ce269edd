package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/rueidis"

	"github.com/streamcluster/streamcluster/api"
	"github.com/streamcluster/streamcluster/koncorde"
	"github.com/streamcluster/streamcluster/node"
	"github.com/streamcluster/streamcluster/realtime"
	"github.com/streamcluster/streamcluster/realtime/cluster"
	"github.com/streamcluster/streamcluster/storage"
	"github.com/streamcluster/streamcluster/storage/elasticsearch"
	"github.com/streamcluster/streamcluster/storage/redisstore"
)

// apiDeps is what the Kuzzle API needs from the process that serves it.
type apiDeps struct {
	Redis      rueidis.Client // shared Redis Cluster client (database 0)
	Logger     *slog.Logger
	Ready      func() bool // cluster readiness; the API answers api.process.not_enough_nodes while false
	NodeID     string
	Node       *node.Node            // not yet running: the registry registers its handlers
	Registerer prometheus.Registerer // the process's metrics registry
	Prefix     string                // key prefix of the cluster ("sc")
	Storage    string                // "redis" or "elasticsearch"
	ESURL      string                // Elasticsearch URL when Storage is "elasticsearch"
	// WaitForMissingRooms: realtime:join waits this long, then retries
	// once, for a room this node has not seen yet (0: no retry).
	WaitForMissingRooms time.Duration
}

// mountAPI registers the Kuzzle API (HTTP routes and the WebSocket upgrade
// on any path) on e, behind the routes already registered there (health
// routes win: echo prefers static routes over the catch-all), and returns
// the function that closes it: WebSocket clients first, then the store.
func mountAPI(ctx context.Context, e *echo.Echo, d apiDeps) (func(context.Context) error, error) {
	_ = ctx
	store, err := openStore(d)
	if err != nil {
		return nil, err
	}
	prefix := d.Prefix
	if prefix == "" {
		prefix = "sc"
	}
	reg, err := cluster.NewRegistry(d.Redis, d.Node, cluster.RegistryConfig{
		Koncorde: koncorde.DefaultConfig(), Registerer: d.Registerer, Logger: d.Logger})
	if err != nil {
		return nil, errors.Join(err, store.Close())
	}
	hub := realtime.NewHub(realtime.HubConfig{}, reg)
	router, err := cluster.NewRouter(d.Redis, d.Node, reg, hub, cluster.RouterConfig{Registerer: d.Registerer, Logger: d.Logger})
	if err != nil {
		return nil, errors.Join(err, store.Close())
	}
	rt := realtime.NewService(realtime.ServiceConfig{NodeID: d.NodeID, Logger: d.Logger, WaitForMissingRooms: d.WaitForMissingRooms},
		hub, reg, router, realtime.NewRedisOutState(d.Redis, prefix, 0))
	srv, err := api.NewServer(api.Config{
		NodeID:   d.NodeID,
		Store:    store,
		Realtime: rt,
		Ready:    d.Ready,
		Logger:   d.Logger,
		Version:  version,
	})
	if err != nil {
		return nil, errors.Join(err, store.Close())
	}
	if err := registerAPIMetrics(d.Registerer, srv); err != nil {
		return nil, errors.Join(err, store.Close())
	}
	routerCtx, stopRouter := context.WithCancel(context.Background())
	routerDone := make(chan error, 1)
	go func() { routerDone <- router.Run(routerCtx) }() // reads this node's inbox until closed
	h := echo.WrapHandler(srv)
	e.Any("/", h)
	e.Any("/*", h)
	return func(ctx context.Context) error {
		err := srv.Close(ctx)
		stopRouter()
		return errors.Join(err, <-routerDone, store.Close())
	}, nil
}

// registerAPIMetrics exposes the API's failure counters on /metrics.
func registerAPIMetrics(r prometheus.Registerer, srv *api.Server) error {
	if r == nil {
		return nil
	}
	return errors.Join(
		r.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "streamcluster_api_notify_failures_total",
			Help: "Writes whose notifications could not be routed (logged; the write itself succeeded).",
		}, func() float64 { return float64(srv.NotifyFailures()) })),
		r.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "streamcluster_api_slow_consumers_closed_total",
			Help: "WebSocket connections closed with 1011 because their send queue was full.",
		}, func() float64 { return float64(srv.SlowConsumersClosed()) })),
	)
}

func openStore(d apiDeps) (storage.Store, error) {
	switch d.Storage {
	case "", "redis":
		s, err := redisstore.New(redisstore.Config{Client: d.Redis, Logger: d.Logger})
		if err != nil {
			return nil, fmt.Errorf("redis store: %w", err)
		}
		return s, nil
	case "elasticsearch":
		if d.ESURL == "" {
			return nil, errors.New("elasticsearch storage needs --es-url (SC_ES_URL)")
		}
		s, err := elasticsearch.New(elasticsearch.Config{Addresses: strings.Split(d.ESURL, ","), Logger: d.Logger})
		if err != nil {
			return nil, fmt.Errorf("elasticsearch store: %w", err)
		}
		return s, nil
	default:
		return nil, fmt.Errorf("unknown storage %q (want redis or elasticsearch)", d.Storage)
	}
}
