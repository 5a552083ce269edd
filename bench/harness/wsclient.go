package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"
)

// ErrRequest is returned when the server answers a request with an error.
var ErrRequest = errors.New("harness: request failed")

// frame is what the harness reads of a Kuzzle message: a response
// (requestId, status, error, result) or a notification (type "document").
type frame struct {
	Type      string          `json:"type"`
	RequestID string          `json:"requestId"`
	Status    int             `json:"status"`
	Error     json.RawMessage `json:"error"`
	Result    json.RawMessage `json:"result"`
}

// publishedResult is the part of a document notification's result the
// latency probe needs: realtime:publish puts the published body in _source.
type publishedResult struct {
	Source struct {
		P string `json:"p"`
	} `json:"_source"`
}

// wsClient is one Kuzzle WebSocket connection. Responses to call() are
// matched by requestId; responses to fire() are only counted; probe payloads
// of document notifications go to onProbe.
type wsClient struct {
	conn    *websocket.Conn
	onProbe func([]byte)

	writeMu sync.Mutex
	seq     atomic.Uint64

	mu      sync.Mutex
	pending map[string]chan frame

	notified  atomic.Int64 // document notifications received
	responses atomic.Int64 // responses to fire() requests
	failures  atomic.Int64 // fire() responses with an error
	lastErr   atomic.Pointer[string]

	readDone chan struct{}
	cancel   context.CancelFunc
}

// dialWS connects to a node. onProbe may be nil.
func dialWS(ctx context.Context, addr string, onProbe func([]byte)) (*wsClient, error) {
	conn, _, err := websocket.Dial(ctx, "ws://"+addr+"/", nil)
	if err != nil {
		return nil, fmt.Errorf("harness: dial %s: %w", addr, err)
	}
	conn.SetReadLimit(1 << 20)
	rctx, cancel := context.WithCancel(context.Background())
	c := &wsClient{conn: conn, onProbe: onProbe, pending: map[string]chan frame{},
		readDone: make(chan struct{}), cancel: cancel}
	go c.readLoop(rctx) // owner: c; close waits for readDone
	return c, nil
}

func (c *wsClient) readLoop(ctx context.Context) {
	defer close(c.readDone)
	for {
		_, data, err := c.conn.Read(ctx)
		if err != nil {
			return
		}
		if probe, ok := fastProbe(data); ok {
			c.notified.Add(1)
			if c.onProbe != nil {
				c.onProbe(probe)
			}
			continue
		}
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			continue
		}
		if f.Type == "document" {
			c.notified.Add(1)
			if c.onProbe != nil {
				var r publishedResult
				if json.Unmarshal(f.Result, &r) == nil {
					c.onProbe([]byte(r.Source.P))
				}
			}
			continue
		}
		if f.Type != "" || f.RequestID == "" {
			continue // user notifications, server events
		}
		c.mu.Lock()
		ch, ok := c.pending[f.RequestID]
		delete(c.pending, f.RequestID)
		c.mu.Unlock()
		if ok {
			ch <- f
			continue
		}
		c.responses.Add(1)
		if f.Status != 200 {
			c.failures.Add(1)
			s := string(f.Error)
			c.lastErr.Store(&s)
		}
	}
}

var (
	documentPrefix = []byte(`{"type":"document",`)
	probeKey       = []byte(`"p":"`)
)

// fastProbe extracts body.p from a document notification without decoding
// the whole message, so that the harness' own cost stays small at high
// rates. It relies on Kuzzle's field order (type first) and on "p" being no
// other key of a notification; anything else takes the full decode.
func fastProbe(data []byte) ([]byte, bool) {
	if !bytes.HasPrefix(data, documentPrefix) {
		return nil, false
	}
	i := bytes.Index(data, probeKey)
	if i < 0 {
		return nil, false
	}
	rest := data[i+len(probeKey):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return nil, false
	}
	return rest[:j], true
}

func (c *wsClient) write(ctx context.Context, msg []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.conn.Write(ctx, websocket.MessageText, msg)
}

// request is a Kuzzle API request.
type request struct {
	Controller string `json:"controller"`
	Action     string `json:"action"`
	Index      string `json:"index,omitempty"`
	Collection string `json:"collection,omitempty"`
	Body       any    `json:"body,omitempty"`
	RequestID  string `json:"requestId"`
}

// call sends a request and waits for its response.
func (c *wsClient) call(ctx context.Context, r request) (json.RawMessage, error) {
	r.RequestID = "c" + strconv.FormatUint(c.seq.Add(1), 10)
	msg, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	ch := make(chan frame, 1)
	c.mu.Lock()
	c.pending[r.RequestID] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, r.RequestID)
		c.mu.Unlock()
	}()
	if err := c.write(ctx, msg); err != nil {
		return nil, err
	}
	select {
	case f := <-ch:
		if f.Status != 200 {
			return nil, fmt.Errorf("%w: %s:%s status %d: %s", ErrRequest, r.Controller, r.Action, f.Status, f.Error)
		}
		return f.Result, nil
	case <-c.readDone:
		return nil, fmt.Errorf("harness: connection closed during %s:%s", r.Controller, r.Action)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// subscribe subscribes to every document of index/collection.
func (c *wsClient) subscribe(ctx context.Context, index, collection string) error {
	_, err := c.call(ctx, request{Controller: "realtime", Action: "subscribe",
		Index: index, Collection: collection, Body: map[string]any{}})
	return err
}

// publishProbe sends realtime:publish with the probe in body.p without
// waiting for the response. The probe must need no JSON escaping (it is made
// of digits, ':' and 'x').
func (c *wsClient) publishProbe(ctx context.Context, buf []byte, index, collection string, probe []byte) ([]byte, error) {
	buf = append(buf[:0], `{"controller":"realtime","action":"publish","index":"`...)
	buf = append(buf, index...)
	buf = append(buf, `","collection":"`...)
	buf = append(buf, collection...)
	buf = append(buf, `","requestId":"p`...)
	buf = strconv.AppendUint(buf, c.seq.Add(1), 10)
	buf = append(buf, `","body":{"p":"`...)
	buf = append(buf, probe...)
	buf = append(buf, `"}}`...)
	return buf, c.write(ctx, buf)
}

// close closes the connection and waits for the reader.
func (c *wsClient) close() {
	_ = c.conn.Close(websocket.StatusNormalClosure, "")
	c.cancel()
	<-c.readDone
}
