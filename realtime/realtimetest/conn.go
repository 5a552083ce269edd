// Package realtimetest holds test helpers for code built on package
// realtime: a connection that records the notifications it is sent.
package realtimetest

import (
	"encoding/json"
	"sync"
)

// Conn is a realtime.Conn that records every payload it is sent, decoded
// as a JSON object. It is safe for concurrent use.
type Conn struct {
	id   string
	mu   sync.Mutex
	msgs []map[string]any
}

// NewConn returns a recording connection with the given id.
func NewConn(id string) *Conn { return &Conn{id: id} }

// ID implements realtime.Conn.
func (c *Conn) ID() string { return c.id }

// Send implements realtime.Conn. A payload that is not a JSON object is a
// bug of the code under test: it panics.
func (c *Conn) Send(p []byte) {
	var m map[string]any
	if err := json.Unmarshal(p, &m); err != nil {
		panic(err)
	}
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	c.mu.Unlock()
}

// Len returns how many payloads were sent.
func (c *Conn) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

// All returns a copy of every payload sent so far.
func (c *Conn) All() []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]map[string]any(nil), c.msgs...)
}

// Take returns the payloads sent since the last Take and forgets them.
func (c *Conn) Take() []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.msgs
	c.msgs = nil
	return out
}
