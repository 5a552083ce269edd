package healthapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/streamcluster/streamcluster/node"
)

// Cluster is what the routes need from the cluster node; *node.Node
// implements it.
type Cluster interface {
	ID() string
	Ready() bool
	Members(ctx context.Context) []node.Member
	Reset(ctx context.Context) error
}

var _ Cluster = (*node.Node)(nil)

// Config configures the routes.
type Config struct {
	Cluster Cluster
	// Ping checks that Redis is reachable, for /_healthcheck.
	Ping func(ctx context.Context) error
	// Gatherer is served on /metrics (default: no /metrics route).
	Gatherer prometheus.Gatherer
	// Timeout bounds the Redis calls of one request (default 2s).
	Timeout time.Duration
	// Logger (default: discarded).
	Logger *slog.Logger
	// Shutdown asks every node of the cluster to leave gracefully and its
	// process to exit, for POST /_plugin/cluster/shutdown (nil: no route).
	Shutdown func(ctx context.Context) error
}

// Register adds the routes to e.
func Register(e *echo.Echo, c Config) {
	if c.Timeout == 0 {
		c.Timeout = 2 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handlers{c: c}
	for _, prefix := range []string{"/_plugin/cluster", "/_"} {
		e.GET(prefix+"/health", h.health)
		e.GET(prefix+"/status", h.status)
		e.POST(prefix+"/reset", h.reset)
		if c.Shutdown != nil {
			e.POST(prefix+"/shutdown", h.shutdown)
		}
	}
	e.GET("/_healthcheck", h.healthcheck)
	e.GET("/_ready", h.ready)
	if c.Gatherer != nil {
		e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(c.Gatherer, promhttp.HandlerOpts{})))
	}
}

type handlers struct {
	c Config
}

// Envelope is Kuzzle's response envelope (key order as Kuzzle's).
type Envelope struct {
	Action     string         `json:"action"`
	Collection *string        `json:"collection,omitempty"`
	Controller string         `json:"controller"`
	Error      *Error         `json:"error"`
	Headers    map[string]any `json:"headers"`
	Index      *string        `json:"index,omitempty"`
	Node       string         `json:"node"`
	RequestID  string         `json:"requestId"`
	Result     any            `json:"result"`
	Status     int            `json:"status"`
	Volatile   any            `json:"volatile"`
}

// Error is a Kuzzle error in an envelope.
type Error struct {
	Code    int      `json:"code"`
	ID      string   `json:"id"`
	Message string   `json:"message"`
	Props   []string `json:"props"`
	Status  int      `json:"status"`
}

// Kuzzle errors used by these routes.
var (
	// The seed plugin's NotFoundError("ko"): a bare plugin error with no
	// registered id, hence code 0.
	errKo = Error{Code: 0, ID: "plugin.cluster.not_ready", Message: "ko", Props: []string{}, Status: http.StatusNotFound}
	// api.process.not_enough_nodes
	errNotEnoughNodes = Error{Code: 33685515, ID: "api.process.not_enough_nodes",
		Message: "Rejected: this cluster is disabled because there aren't enough nodes connected.", Props: []string{}, Status: http.StatusServiceUnavailable}
	// core.fatal.service_unavailable: Redis unreachable
	errUnavailable = Error{Code: 0, ID: "core.fatal.service_unavailable", Message: "Redis is unreachable.", Props: []string{}, Status: http.StatusServiceUnavailable}
)

func (h *handlers) send(c echo.Context, controller, action string, status int, result any, kerr *Error) error {
	reqID := c.Request().Header.Get("X-Kuzzle-Request-Id")
	if reqID == "" {
		reqID = c.Response().Header().Get(echo.HeaderXRequestID)
	}
	if kerr != nil {
		result = nil
	}
	c.Response().Header().Set("X-Kuzzle-Node", h.c.Cluster.ID())
	return c.JSON(status, Envelope{
		Action: action, Controller: controller, Error: kerr, Headers: map[string]any{},
		Node: h.c.Cluster.ID(), RequestID: reqID, Result: result, Status: status,
	})
}

func (h *handlers) health(c echo.Context) error {
	if !h.c.Cluster.Ready() {
		e := errKo
		return h.send(c, "cluster/cluster", "health", e.Status, nil, &e)
	}
	return h.send(c, "cluster/cluster", "health", http.StatusOK, "ok", nil)
}

// MemberJSON is one node in the status route.
type MemberJSON struct {
	ID                    string  `json:"id"`
	Address               string  `json:"address"`
	Version               string  `json:"version,omitempty"`
	StartedAt             string  `json:"startedAt,omitempty"`
	Ready                 bool    `json:"ready"`
	Incarnation           uint64  `json:"incarnation"`
	SecondsSinceHeartbeat float64 `json:"secondsSinceHeartbeat"`
	ControlLag            int64   `json:"controlLag"`
}

// Status is the result of the status route: the seed plugin's shape.
type Status struct {
	Count   int          `json:"count"`
	Current MemberJSON   `json:"current"`
	Pool    []MemberJSON `json:"pool"`
}

func toJSON(m node.Member) MemberJSON {
	j := MemberJSON{
		ID: m.ID, Address: m.Address, Version: m.Version, Ready: m.Ready, Incarnation: m.Incarnation,
		SecondsSinceHeartbeat: m.HeartbeatAge.Seconds(), ControlLag: m.Lag,
	}
	if !m.StartedAt.IsZero() {
		j.StartedAt = m.StartedAt.UTC().Format(time.RFC3339Nano)
	}
	return j
}

func (h *handlers) status(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.c.Timeout)
	defer cancel()
	members := h.c.Cluster.Members(ctx)
	st := Status{Count: len(members), Pool: []MemberJSON{}}
	for _, m := range members {
		if m.Self {
			st.Current = toJSON(m)
			continue
		}
		st.Pool = append(st.Pool, toJSON(m))
	}
	return h.send(c, "cluster/cluster", "status", http.StatusOK, st, nil)
}

func (h *handlers) reset(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.c.Timeout)
	defer cancel()
	if err := h.c.Cluster.Reset(ctx); err != nil {
		h.c.Logger.Error("reset", slog.Any("err", err))
		e := errUnavailable
		e.Message = "Reset failed: " + err.Error()
		return h.send(c, "cluster/cluster", "reset", e.Status, nil, &e)
	}
	return h.send(c, "cluster/cluster", "reset", http.StatusOK, "ok", nil)
}

func (h *handlers) healthcheck(c echo.Context) error {
	if h.c.Ping != nil {
		ctx, cancel := context.WithTimeout(c.Request().Context(), h.c.Timeout)
		defer cancel()
		if err := h.c.Ping(ctx); err != nil {
			e := errUnavailable
			return h.send(c, "server", "healthcheck", e.Status, nil, &e)
		}
	}
	return h.send(c, "server", "healthcheck", http.StatusOK, map[string]any{"status": "green"}, nil)
}

func (h *handlers) ready(c echo.Context) error {
	if !h.c.Cluster.Ready() {
		e := errNotEnoughNodes
		return h.send(c, "server", "ready", e.Status, nil, &e)
	}
	return h.send(c, "server", "ready", http.StatusOK, "ok", nil)
}

func (h *handlers) shutdown(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.c.Timeout)
	defer cancel()
	if err := h.c.Shutdown(ctx); err != nil {
		h.c.Logger.Error("shutdown", slog.Any("err", err))
		e := errUnavailable
		e.Message = "Shutdown failed: " + err.Error()
		return h.send(c, "cluster/cluster", "shutdown", e.Status, nil, &e)
	}
	return h.send(c, "cluster/cluster", "shutdown", http.StatusOK, "ok", nil)
}
