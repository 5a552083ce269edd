package main

import (
	"context"
	"log/slog"

	"github.com/labstack/echo/v4"
	"github.com/redis/rueidis"
)

// apiDeps is what the Kuzzle API needs from the process that serves it.
type apiDeps struct {
	Redis   rueidis.Client // shared Redis Cluster client (database 0)
	Logger  *slog.Logger
	Ready   func() bool // cluster readiness; the API answers api.process.not_enough_nodes while false
	NodeID  string
	Prefix  string // key prefix of the cluster ("sc")
	Storage string // "redis" or "elasticsearch"
	ESURL   string // Elasticsearch URL when Storage is "elasticsearch"
}

// mountAPI registers the Kuzzle API (HTTP routes and the WebSocket upgrade)
// on e and returns the function that closes it. The Kuzzle API is not wired
// yet: this registers no route.
func mountAPI(ctx context.Context, e *echo.Echo, d apiDeps) (func(context.Context) error, error) {
	_, _, _ = ctx, e, d
	return func(context.Context) error { return nil }, nil
}
