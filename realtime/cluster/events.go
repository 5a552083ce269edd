package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/streamcluster/streamcluster/node"
)

// TypeEvent is the control entry type of a cluster-wide event.
const TypeEvent = "Event"

// ErrEventName is returned by Broadcast for an empty event name.
var ErrEventName = errors.New("cluster: empty event name")

// eventMutation appends the event entry and changes nothing else.
var eventMutation = node.NewMutation(`return append(1)`)

type eventEntry struct {
	Event   string `json:"event"`
	Payload []byte `json:"payload"` // base64 in JSON
}

// Events delivers cluster-wide events between the Go code embedding the
// nodes: Broadcast appends one entry to the control stream, and every
// member (the sender included) calls the handlers registered with On for
// that event, in control stream order. It is safe for concurrent use.
type Events struct {
	node     *node.Node
	log      *slog.Logger
	mu       sync.RWMutex
	handlers map[string][]func(sender string, payload []byte)
}

// NewEvents registers the event handler on n, which must not be running
// yet. logger may be nil.
func NewEvents(n *node.Node, logger *slog.Logger) (*Events, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	e := &Events{node: n, log: logger, handlers: make(map[string][]func(string, []byte))}
	if err := n.Handle(TypeEvent, e.handle); err != nil {
		return nil, fmt.Errorf("cluster: register the event handler: %w", err)
	}
	return e, nil
}

// On registers handler for event. Handlers run on the node's driver
// goroutine, one entry at a time: they must return quickly (hand long
// work to a goroutine the caller owns).
func (e *Events) On(event string, handler func(sender string, payload []byte)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.handlers[event] = append(e.handlers[event], handler)
}

// Broadcast sends event with payload to every member, this node included.
// It fails with node.ErrFenced (wrapped) while this node is not a member.
func (e *Events) Broadcast(ctx context.Context, event string, payload []byte) error {
	if event == "" {
		return ErrEventName
	}
	data, err := json.Marshal(eventEntry{Event: event, Payload: payload})
	if err != nil {
		return fmt.Errorf("cluster: encode event %s: %w", event, err)
	}
	if _, err := e.node.Mutate(ctx, eventMutation, nil, nil, node.Append{Type: TypeEvent, Data: data}); err != nil {
		return fmt.Errorf("cluster: broadcast event %s: %w", event, err)
	}
	return nil
}

func (e *Events) handle(_ context.Context, en node.Entry) error {
	var ev eventEntry
	if err := json.Unmarshal(en.Data, &ev); err != nil {
		return fmt.Errorf("cluster: bad event entry: %w", err)
	}
	e.mu.RLock()
	hs := e.handlers[ev.Event]
	e.mu.RUnlock()
	for _, h := range hs {
		h(en.Node, ev.Payload)
	}
	return nil
}
