package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/streamcluster/streamcluster/realtime"
	"github.com/streamcluster/streamcluster/storage"
)

// Defaults of Config.
const (
	// DefaultMaxRequestSize is the default Config.MaxRequestSize (Kuzzle's
	// server.maxRequestSize, "1mb").
	DefaultMaxRequestSize = 1 << 20
	// DefaultSendQueue is the default Config.SendQueue.
	DefaultSendQueue = 10_000
	// DefaultSendQueueBytes is the default Config.SendQueueBytes.
	DefaultSendQueueBytes = 16 << 20
	// DefaultMaxInFlight is the default Config.MaxInFlight.
	DefaultMaxInFlight = 32
	// DefaultWriteTimeout is the default Config.WriteTimeout.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultIdleTimeout is the default Config.IdleTimeout (Kuzzle's
	// server.protocols.websocket.idleTimeout).
	DefaultIdleTimeout = 60 * time.Second
)

// Config configures a Server. The zero value of each optional field means
// its default.
type Config struct {
	// NodeID is the "node" field of responses and notifications. Required.
	NodeID string
	// Store holds indexes, collections and documents. Required.
	Store storage.Store
	// Realtime serves subscriptions and notifications. Required.
	Realtime *realtime.Service
	// Ready reports cluster readiness; while it returns false every API
	// request gets api.process.not_enough_nodes (503). Nil means always ready.
	Ready func() bool
	// Logger receives errors that cannot reach a client. Nil discards.
	Logger *slog.Logger
	// MaxRequestSize caps an HTTP body or a WebSocket frame, in bytes
	// (default 1 MiB). Larger HTTP bodies get network.http.request_too_large;
	// larger frames up to 4× the limit are read, dropped and answered with
	// that error; beyond that the socket is closed with 1009.
	MaxRequestSize int64
	// SendQueue and SendQueueBytes bound what waits to be written to one
	// WebSocket client (responses and notifications), in messages and in
	// bytes: a client that lets more pile up is closed with 1011 "too much
	// backpressure: client is too slow", as Kuzzle does. Defaults 10,000
	// messages (Kuzzle's limits.documentsWriteCount, so that a full m*
	// write notifying its own author fits) and 16 MiB. The queue grows on
	// demand: an idle connection holds no buffer.
	SendQueue      int
	SendQueueBytes int
	// MaxInFlight caps the requests of one WebSocket connection processed
	// at once (default 32); the connection's reads wait beyond it.
	MaxInFlight int
	// WriteTimeout bounds one WebSocket write (default 10s); a client that
	// does not read within it is disconnected.
	WriteTimeout time.Duration
	// IdleTimeout closes a WebSocket from which nothing (message, ping or
	// pong) arrived for that long, so that a vanished client does not keep
	// its subscriptions. After half of it the server sends a ping, which a
	// live client answers. Default 60s; a negative value disables it.
	IdleTimeout time.Duration
	// Version is reported by server:info.
	Version string
}

func (c Config) withDefaults() Config {
	if c.MaxRequestSize == 0 {
		c.MaxRequestSize = DefaultMaxRequestSize
	}
	if c.SendQueue == 0 {
		c.SendQueue = DefaultSendQueue
	}
	if c.SendQueueBytes == 0 {
		c.SendQueueBytes = DefaultSendQueueBytes
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Ready == nil {
		c.Ready = func() bool { return true }
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	return c
}

// Validate reports a configuration error.
func (c Config) Validate() error {
	switch {
	case c.NodeID == "":
		return errors.New("api: NodeID is required")
	case c.Store == nil:
		return errors.New("api: Store is required")
	case c.Realtime == nil:
		return errors.New("api: Realtime is required")
	case c.MaxRequestSize < 0:
		return errors.New("api: MaxRequestSize must not be negative")
	case c.SendQueue < 0, c.SendQueueBytes < 0, c.MaxInFlight < 0, c.WriteTimeout < 0:
		return errors.New("api: SendQueue, SendQueueBytes, MaxInFlight and WriteTimeout must not be negative")
	}
	return nil
}

// handler is a controller action. It returns the response's result, which
// is marshalled to JSON (json.RawMessage is used as is).
type handler func(ctx context.Context, r *Request) (any, error)

// Server serves the Kuzzle API. It implements http.Handler.
type Server struct {
	cfg     Config
	log     *slog.Logger
	actions map[string]map[string]handler
	routes  *routeTable
	rt      *realtime.Service
	store   storage.Store
	started time.Time

	// WebSocket connections, closed by Close.
	mu     sync.Mutex
	conns  map[*wsConn]struct{}
	closed bool
	wg     sync.WaitGroup

	slowClosed     atomic.Int64 // connections closed for backpressure
	notifyFailures atomic.Int64 // writes whose notifications failed
}

// NewServer returns a server for cfg.
func NewServer(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		rt:      cfg.Realtime,
		store:   cfg.Store,
		started: time.Now(),
		conns:   make(map[*wsConn]struct{}),
	}
	s.actions = s.controllers()
	s.routes = newRouteTable(httpRoutes)
	return s, nil
}

// ServeHTTP serves an HTTP request or upgrades it to a WebSocket.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isWebSocketUpgrade(r) {
		s.serveWebSocket(w, r)
		return
	}
	s.serveHTTP(w, r)
}

// Close closes every WebSocket connection with 1001 "going away" and waits
// for their goroutines. It is idempotent; ctx bounds the wait.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	conns := make([]*wsConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.shutdown()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("api: close: %w", ctx.Err())
	}
}

// execute runs the request pipeline and returns the response status,
// result and error.
func (s *Server) execute(ctx context.Context, r *Request) (int, json.RawMessage, *Error) {
	if !s.cfg.Ready() {
		return s.fail(kerr("api.process.not_enough_nodes"))
	}
	if r.Controller == "" {
		return s.fail(kerr("api.assert.missing_argument", "controller"))
	}
	if r.Action == "" {
		return s.fail(kerr("api.assert.missing_argument", "action"))
	}
	actions, ok := s.actions[r.Controller]
	if !ok {
		return s.fail(kerr("api.process.controller_not_found", r.Controller))
	}
	h, ok := actions[r.Action]
	if !ok {
		return s.fail(kerr("api.process.action_not_found", r.Controller, r.Action))
	}
	user, err := s.identify(ctx, r)
	if err != nil {
		return s.fail(asAPIError(err))
	}
	r.User = user
	if err := s.authorize(ctx, r); err != nil {
		return s.fail(asAPIError(err))
	}
	res, err := h(ctx, r)
	if err != nil {
		e := asAPIError(err)
		if e.Status >= 500 {
			s.log.Error("api: request failed", "controller", r.Controller, "action", r.Action, "err", err)
		}
		return s.fail(e)
	}
	var raw json.RawMessage
	switch v := res.(type) {
	case json.RawMessage:
		raw = v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return s.fail(kerrCause(err, "core.fatal.unexpected_error", err.Error()))
		}
		raw = b
	}
	return http.StatusOK, raw, nil
}

func (s *Server) fail(e *Error) (int, json.RawMessage, *Error) { return e.Status, nil, e }

// identify resolves the caller's identity. This is where authentication
// plugs in: today every request without a token is the anonymous user, and
// since this node issues no token, any token is invalid.
func (s *Server) identify(_ context.Context, r *Request) (Identity, error) {
	if r.JWT == "" {
		return Anonymous, nil
	}
	// auth:checkToken verifies its body's token itself, whatever the jwt.
	if r.Controller == "auth" && (r.Action == "checkToken" || r.Action == "login") {
		return Anonymous, nil
	}
	return Identity{}, kerr("security.token.invalid")
}

// authorize checks the caller's rights on the request. This is where roles
// and profiles plug in: today the anonymous user may do everything, as in a
// fresh Kuzzle.
func (s *Server) authorize(_ context.Context, _ *Request) error { return nil }

// respond renders the envelope of a finished request.
func (s *Server) respond(r *Request, status int, result json.RawMessage, e *Error, room bool) []byte {
	var b bytes.Buffer
	envelope(&b, r, s.cfg.NodeID, status, result, e, room)
	return b.Bytes()
}

// SlowConsumersClosed returns how many WebSocket clients were disconnected
// because their send queue was full.
func (s *Server) SlowConsumersClosed() int64 { return s.slowClosed.Load() }

// NotifyFailures returns how many writes succeeded but failed to send all
// their notifications (each failure is also logged).
func (s *Server) NotifyFailures() int64 { return s.notifyFailures.Load() }

// ConnCount returns the number of open WebSocket connections.
func (s *Server) ConnCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}
