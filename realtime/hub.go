package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/streamcluster/streamcluster/koncorde"
)

// Conn is a client connection that receives notifications.
type Conn interface {
	// ID identifies the connection on this node.
	ID() string
	// Send queues payload for the client. It is called with hub locks held
	// and must not block: a connection that cannot keep up closes itself.
	// payload is shared between connections and must not be modified.
	Send(payload []byte)
}

// DefaultMaxRooms is the default HubConfig.MaxRooms (Kuzzle's
// limits.subscriptionRooms).
const DefaultMaxRooms = 1_000_000

// HubConfig configures a Hub.
type HubConfig struct {
	// MaxRooms caps the rooms with subscribers on this node; a subscription
	// that would create one more fails with ErrTooManyRooms. Zero means
	// DefaultMaxRooms; a negative value means no limit.
	MaxRooms int
}

func (c HubConfig) withDefaults() HubConfig {
	if c.MaxRooms == 0 {
		c.MaxRooms = DefaultMaxRooms
	}
	return c
}

// Hub is the local realtime state of a node: the rooms that have
// subscribers here, their channels, and each connection's subscriptions.
// It is safe for concurrent use.
type Hub struct {
	cfg HubConfig
	reg Registry

	mu    sync.RWMutex
	rooms map[string]*hubRoom
	conns map[string]*hubConn
}

type hubRoom struct {
	id, index, collection string
	channels              map[string]*hubChannel
	conns                 map[string]struct{}
}

type hubChannel struct {
	name  string
	opts  Options
	conns map[string]Conn
}

type hubConn struct {
	conn  Conn
	rooms map[string]json.RawMessage // room id → the volatile given at subscription
}

// NewHub returns an empty hub that records its subscribers in reg.
func NewHub(cfg HubConfig, reg Registry) *Hub {
	return &Hub{
		cfg:   cfg.withDefaults(),
		reg:   reg,
		rooms: make(map[string]*hubRoom),
		conns: make(map[string]*hubConn),
	}
}

// Subscription is the result of a subscription.
type Subscription struct {
	RoomID  string
	Channel string
	// First is true when the connection was not yet in the room; a user
	// notification "in" is then due, with Count.
	First bool
	// Count is the number of this node's connections in the room.
	Count int
}

// Subscribe adds conn to the room of filter f on index/collection with the
// given options. volatile is kept for the user notification sent when the
// connection leaves.
func (h *Hub) Subscribe(ctx context.Context, conn Conn, index, collection string, f *koncorde.Filter, opts Options, volatile json.RawMessage) (Subscription, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return Subscription{}, err
	}
	return h.enter(ctx, conn, f.RoomID(), index, collection, f, opts, volatile)
}

// Join adds conn to an existing room, known locally or to the registry.
func (h *Hub) Join(ctx context.Context, conn Conn, roomID string, opts Options, volatile json.RawMessage) (Subscription, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return Subscription{}, err
	}
	info, ok := h.reg.Room(roomID)
	if !ok {
		return Subscription{}, fmt.Errorf("%w: %s", ErrRoomNotFound, roomID)
	}
	return h.enter(ctx, conn, roomID, info.Index, info.Collection, info.Filter, opts, volatile)
}

func (h *Hub) enter(ctx context.Context, conn Conn, roomID, index, collection string, f *koncorde.Filter, opts Options, volatile json.RawMessage) (Subscription, error) {
	h.mu.Lock()
	room, ok := h.rooms[roomID]
	if !ok {
		if h.cfg.MaxRooms > 0 && len(h.rooms) >= h.cfg.MaxRooms {
			h.mu.Unlock()
			return Subscription{}, ErrTooManyRooms
		}
		room = &hubRoom{id: roomID, index: index, collection: collection,
			channels: make(map[string]*hubChannel), conns: make(map[string]struct{})}
		h.rooms[roomID] = room
	}
	hc, ok := h.conns[conn.ID()]
	if !ok {
		hc = &hubConn{conn: conn, rooms: make(map[string]json.RawMessage)}
		h.conns[conn.ID()] = hc
	}
	_, already := hc.rooms[roomID]
	if !already {
		hc.rooms[roomID] = volatile
		room.conns[conn.ID()] = struct{}{}
	}
	name := ChannelName(roomID, opts)
	ch, ok := room.channels[name]
	if !ok {
		ch = &hubChannel{name: name, opts: opts, conns: make(map[string]Conn)}
		room.channels[name] = ch
	}
	ch.conns[conn.ID()] = conn
	sub := Subscription{RoomID: roomID, Channel: name, First: !already, Count: len(room.conns)}
	h.mu.Unlock()

	if sub.First {
		if err := h.reg.AddSubscriber(ctx, index, collection, f); err != nil {
			_, _, _ = h.leave(conn.ID(), roomID)
			return Subscription{}, fmt.Errorf("realtime: register subscriber: %w", err)
		}
	}
	return sub, nil
}

// Left describes a connection leaving a room.
type Left struct {
	RoomID     string
	Index      string
	Collection string
	Volatile   json.RawMessage // the volatile given at subscription
	Count      int             // this node's connections left in the room
}

// Unsubscribe removes the connection from every channel of the room.
func (h *Hub) Unsubscribe(ctx context.Context, connID, roomID string) (Left, error) {
	left, ok, last := h.leave(connID, roomID)
	if !ok {
		return Left{}, fmt.Errorf("%w: %s", ErrNotSubscribed, roomID)
	}
	_ = last
	if err := h.reg.RemoveSubscriber(ctx, roomID); err != nil {
		return left, fmt.Errorf("realtime: unregister subscriber: %w", err)
	}
	return left, nil
}

// leave removes connID from roomID locally. last is true when the room has
// no local subscriber anymore (it is then forgotten by the hub).
func (h *Hub) leave(connID, roomID string) (left Left, ok, last bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	hc, found := h.conns[connID]
	if !found {
		return Left{}, false, false
	}
	volatile, found := hc.rooms[roomID]
	if !found {
		return Left{}, false, false
	}
	delete(hc.rooms, roomID)
	if len(hc.rooms) == 0 {
		delete(h.conns, connID)
	}
	room := h.rooms[roomID]
	delete(room.conns, connID)
	for name, ch := range room.channels {
		delete(ch.conns, connID)
		if len(ch.conns) == 0 {
			delete(room.channels, name)
		}
	}
	if len(room.conns) == 0 {
		delete(h.rooms, roomID)
		last = true
	}
	return Left{RoomID: roomID, Index: room.index, Collection: room.collection,
		Volatile: volatile, Count: len(room.conns)}, true, last
}

// RemoveConn unsubscribes a closed connection from every room and returns
// what it left, for the user notifications.
func (h *Hub) RemoveConn(ctx context.Context, connID string) ([]Left, error) {
	h.mu.RLock()
	hc, ok := h.conns[connID]
	var rooms []string
	if ok {
		rooms = make([]string, 0, len(hc.rooms))
		for id := range hc.rooms {
			rooms = append(rooms, id)
		}
	}
	h.mu.RUnlock()
	var (
		out   []Left
		first error
	)
	for _, id := range rooms {
		left, err := h.Unsubscribe(ctx, connID, id)
		if err != nil && first == nil {
			first = err
		}
		if left.RoomID != "" {
			out = append(out, left)
		}
	}
	return out, first
}

// Deliver sends m to this node's channels of m.Rooms that want it.
func (h *Hub) Deliver(m Message) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, id := range m.Rooms {
		room, ok := h.rooms[id]
		if !ok {
			continue
		}
		for _, ch := range room.channels {
			switch m.Kind {
			case KindDocument:
				if !wantsDocument(ch.opts.Scope, m.Scope) {
					continue
				}
			case KindUser:
				if !wantsUser(ch.opts.Users, m.Scope) {
					continue
				}
			default:
				continue
			}
			payload := withRoom(m.Payload, ch.name)
			for id, c := range ch.conns {
				if id != m.ExceptConn {
					c.Send(payload)
				}
			}
		}
	}
}

// HasRoom reports whether the room has subscribers on this node.
func (h *Hub) HasRoom(roomID string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	_, ok := h.rooms[roomID]
	return ok
}

// LocalRooms returns the ids of the rooms with subscribers on this node and
// their local subscriber counts, for re-announcing them to a cluster.
func (h *Hub) LocalRooms() map[string]int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make(map[string]int, len(h.rooms))
	for id, r := range h.rooms {
		out[id] = len(r.conns)
	}
	return out
}
