package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Close reasons and codes sent to WebSocket clients.
const (
	backpressureReason = "too much backpressure: client is too slow"
	shutdownReason     = "server shutting down"
	idleReason         = "idle timeout"
)

var appPong = []byte(`{"p":2}`)

func isWebSocketUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, key, token string) bool {
	for _, v := range h.Values(key) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// wsConn is one WebSocket client. Its reader runs in the HTTP handler's
// goroutine; its writer goroutine owns the socket's writes and drains the
// bounded send queue: a client that lets it fill up is disconnected with 1011.
type wsConn struct {
	s  *Server
	ws *websocket.Conn
	id string
	// Outgoing queue, bounded by Config.SendQueue and SendQueueBytes.
	qmu    sync.Mutex
	queue  [][]byte
	qbytes int
	wake   chan struct{} // capacity 1: the writer has something to do

	ctx    context.Context // canceled when the connection closes
	cancel context.CancelFunc

	closeOnce   sync.Once
	closeCode   websocket.StatusCode
	closeReason string

	inflight chan struct{}  // one token per request being processed
	reqs     sync.WaitGroup // requests in flight and pings

	lastSeen atomic.Int64 // unix nanoseconds of the last frame received
}

func (c *wsConn) seen() { c.lastSeen.Store(time.Now().UnixNano()) }

// ID implements realtime.Conn.
func (c *wsConn) ID() string { return c.id }

// Send implements realtime.Conn: it queues payload without blocking and
// closes a connection whose queue is full.
func (c *wsConn) Send(payload []byte) {
	if c.ctx.Err() != nil {
		return
	}
	c.qmu.Lock()
	full := len(c.queue) >= c.s.cfg.SendQueue || c.qbytes+len(payload) > c.s.cfg.SendQueueBytes
	if !full {
		c.queue = append(c.queue, payload)
		c.qbytes += len(payload)
	}
	c.qmu.Unlock()
	if full {
		if c.ctx.Err() == nil {
			c.s.slowClosed.Add(1)
		}
		c.closeWith(websocket.StatusInternalError, backpressureReason)
		return
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// closeWith makes the writer close the socket with code and reason; only
// the first call counts.
func (c *wsConn) closeWith(code websocket.StatusCode, reason string) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeReason = code, reason
		c.cancel()
	})
}

func (c *wsConn) shutdown() { c.closeWith(websocket.StatusGoingAway, shutdownReason) }

func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	var c *wsConn
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true, // Kuzzle accepts any origin
		CompressionMode:    websocket.CompressionDisabled,
		OnPingReceived: func(context.Context, []byte) bool {
			c.seen()
			return true
		},
		OnPongReceived: func(context.Context, []byte) { c.seen() },
	})
	if err != nil {
		s.log.Debug("api: websocket upgrade failed", "err", err)
		return
	}
	// Frames up to 4× the request limit are read and answered with an
	// error; larger ones close the socket with 1009.
	ws.SetReadLimit(4 * s.cfg.MaxRequestSize)

	ctx, cancel := context.WithCancel(context.Background())
	c = &wsConn{
		s: s, ws: ws, id: newRequestID(),
		wake:     make(chan struct{}, 1),
		ctx:      ctx,
		cancel:   cancel,
		inflight: make(chan struct{}, s.cfg.MaxInFlight),
	}
	c.seen()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		cancel()
		_ = ws.Close(websocket.StatusGoingAway, shutdownReason)
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(2)
	s.mu.Unlock()

	go func() {
		defer s.wg.Done()
		c.writeLoop()
	}()
	c.readLoop()

	// The socket is closing: finish the requests in flight, then drop the
	// connection's subscriptions (which notifies the other subscribers).
	c.closeWith(websocket.StatusNormalClosure, "")
	c.reqs.Wait()
	rmCtx, rmCancel := context.WithTimeout(context.Background(), 10*time.Second)
	if err := s.rt.RemoveConn(rmCtx, c.id, ProtocolWebSocket); err != nil {
		s.log.Warn("api: remove connection subscriptions", "conn", c.id, "err", err)
	}
	rmCancel()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

func (c *wsConn) writeLoop() {
	var tick <-chan time.Time
	if idle := c.s.cfg.IdleTimeout; idle > 0 {
		t := time.NewTicker(idle / 4)
		defer t.Stop()
		tick = t.C
	}
	pinging := false
	pingDone := make(chan struct{}, 1)
	for {
		// A close request wins over queued messages.
		if c.ctx.Err() != nil {
			_ = c.ws.Close(c.closeCode, c.closeReason)
			return
		}
		select {
		case <-c.ctx.Done():
			_ = c.ws.Close(c.closeCode, c.closeReason)
			return
		case <-pingDone:
			pinging = false
		case <-tick:
			idle := time.Duration(time.Now().UnixNano() - c.lastSeen.Load())
			switch {
			case idle >= c.s.cfg.IdleTimeout:
				c.closeWith(websocket.StatusGoingAway, idleReason)
			case idle >= c.s.cfg.IdleTimeout/2 && !pinging:
				// Ping waits for the pong, read by the reader: run it
				// aside so that notifications keep flowing meanwhile.
				pinging = true
				c.reqs.Add(1)
				go func() {
					defer c.reqs.Done()
					// Not c.ctx: canceling a write drops the socket
					// without a close frame; Ping returns when it closes.
					ctx, cancel := context.WithTimeout(context.Background(), c.s.cfg.IdleTimeout/2)
					_ = c.ws.Ping(ctx) // a failure shows as idleness
					cancel()
					pingDone <- struct{}{}
				}()
			}
		case <-c.wake:
			if !c.flush() {
				return
			}
		}
	}
}

// flush writes everything queued; it returns false when the socket failed.
// Each message stays counted in the queue until it is written, so that a
// client that stops reading is detected while a write is blocked.
func (c *wsConn) flush() bool {
	for c.ctx.Err() == nil {
		c.qmu.Lock()
		if len(c.queue) == 0 {
			c.queue = nil // release the backing array of a burst
			c.qmu.Unlock()
			return true
		}
		p := c.queue[0]
		c.qmu.Unlock()

		ctx, cancel := context.WithTimeout(context.Background(), c.s.cfg.WriteTimeout)
		err := c.ws.Write(ctx, websocket.MessageText, p)
		cancel()
		if err != nil {
			c.closeWith(websocket.StatusInternalError, "write failed")
			_ = c.ws.CloseNow()
			return false
		}
		c.qmu.Lock()
		c.queue[0] = nil
		c.queue = c.queue[1:]
		c.qbytes -= len(p)
		c.qmu.Unlock()
	}
	return true
}

func (c *wsConn) readLoop() {
	limit := c.s.cfg.MaxRequestSize
	for {
		// Not c.ctx: canceling a read makes the library drop the socket
		// without a close frame. The reader ends when the writer's Close
		// completes the closing handshake.
		_, rd, err := c.ws.Reader(context.Background())
		if err != nil {
			return
		}
		c.seen()
		data, err := io.ReadAll(io.LimitReader(rd, limit+1))
		if err != nil {
			return
		}
		if int64(len(data)) > limit {
			if _, err := io.Copy(io.Discard, rd); err != nil {
				return // beyond the hard cap: the library closed with 1009
			}
			c.sendError(nil, kerr("network.http.request_too_large"))
			continue
		}
		if !c.handle(data) {
			return
		}
	}
}

// handle processes one frame; it returns false when the connection is
// closing.
func (c *wsConn) handle(data []byte) bool {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return true
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			c.sendError(nil, &Error{Status: 500, Message: "Input request data must be a non-null object"})
			return true
		}
		c.sendError(nil, kerrCause(err, "network.websocket.unexpected_error", err.Error()))
		return true
	}
	if fields == nil {
		c.sendError(nil, &Error{Status: 500, Message: "Input request data must be a non-null object"})
		return true
	}
	if len(fields) == 1 && string(bytes.TrimSpace(fields["p"])) == "1" {
		c.Send(appPong)
		return true
	}
	req, apiErr := parseRequest(fields)
	if apiErr != nil {
		// Kuzzle sends these without a room, so that its own SDK never
		// sees them and the query times out; when the request id could be
		// read we add the room, so that the client gets the error.
		withRoom := req.RequestID != ""
		if !withRoom {
			req.RequestID = newRequestID()
		}
		c.Send(c.s.respond(req, apiErr.Status, nil, apiErr, withRoom))
		return true
	}
	req.Protocol = ProtocolWebSocket
	req.ConnID = c.id
	req.conn = c

	select {
	case c.inflight <- struct{}{}:
	case <-c.ctx.Done():
		return false
	}
	c.reqs.Add(1)
	go func() {
		defer c.reqs.Done()
		defer func() { <-c.inflight }()
		ctx := context.WithoutCancel(c.ctx)
		status, result, e := c.s.execute(ctx, req)
		c.Send(c.s.respond(req, status, result, e, true))
	}()
	return true
}

// sendError sends an error raised before the request could be executed.
// As in Kuzzle, it carries no room: the request id could not be trusted.
func (c *wsConn) sendError(req *Request, e *Error) {
	if req == nil {
		req = &Request{RequestID: newRequestID()}
	}
	if req.RequestID == "" {
		req.RequestID = newRequestID()
	}
	c.Send(c.s.respond(req, e.Status, nil, e, false))
}
