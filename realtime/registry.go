package realtime

import (
	"context"
	"sync"

	"github.com/streamcluster/streamcluster/koncorde"
)

// RoomInfo describes a room known to the registry.
type RoomInfo struct {
	ID         string
	Index      string
	Collection string
	Filter     *koncorde.Filter
	// Count is the number of subscribers (connections) in the room on
	// every node.
	Count int
}

// Registry is the set of rooms known to the cluster: their filters, used to
// match documents and to join a room created elsewhere, and their
// subscriber counts, used by realtime:count and realtime:list.
//
// Implementations are safe for concurrent use. Match is on the hot path of
// every write: it does no I/O.
type Registry interface {
	// AddSubscriber records one more subscriber of this node in the room
	// of filter f, registering the room when it is new.
	AddSubscriber(ctx context.Context, index, collection string, f *koncorde.Filter) error
	// RemoveSubscriber records one subscriber less of this node in the
	// room; the room is forgotten when no node has subscribers in it.
	RemoveSubscriber(ctx context.Context, roomID string) error
	// Match returns the ids of the rooms of index/collection whose filter
	// matches the document doc of id id (id may be empty).
	Match(index, collection string, doc map[string]any, id string) []string
	// HasRooms reports whether index/collection has any room; writes on a
	// collection without rooms skip notification work entirely.
	HasRooms(index, collection string) bool
	// Room returns a room by id.
	Room(roomID string) (RoomInfo, bool)
	// Rooms returns every room.
	Rooms() []RoomInfo
}

// LocalRegistry is the Registry of a single node: rooms and counts live in
// process memory, filters in a Koncorde engine.
type LocalRegistry struct {
	mu     sync.RWMutex
	engine *koncorde.Engine
	rooms  map[string]*RoomInfo
	colls  map[string]int // "<index>/<collection>" → number of rooms
}

var _ Registry = (*LocalRegistry)(nil)

// NewLocalRegistry returns an empty registry matching with a Koncorde engine
// built from cfg.
func NewLocalRegistry(cfg koncorde.Config) *LocalRegistry {
	return &LocalRegistry{engine: koncorde.NewEngine(cfg), rooms: make(map[string]*RoomInfo), colls: make(map[string]int)}
}

// AddSubscriber implements Registry.
func (r *LocalRegistry) AddSubscriber(_ context.Context, index, collection string, f *koncorde.Filter) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := f.RoomID()
	room, ok := r.rooms[id]
	if !ok {
		r.engine.Register(f)
		room = &RoomInfo{ID: id, Index: index, Collection: collection, Filter: f}
		r.rooms[id] = room
		r.colls[index+"/"+collection]++
	}
	room.Count++
	return nil
}

// RemoveSubscriber implements Registry.
func (r *LocalRegistry) RemoveSubscriber(_ context.Context, roomID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	room, ok := r.rooms[roomID]
	if !ok {
		return nil
	}
	room.Count--
	if room.Count <= 0 {
		delete(r.rooms, roomID)
		r.engine.Remove(roomID)
		k := room.Index + "/" + room.Collection
		if r.colls[k]--; r.colls[k] <= 0 {
			delete(r.colls, k)
		}
	}
	return nil
}

// Match implements Registry.
func (r *LocalRegistry) Match(index, collection string, doc map[string]any, id string) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.rooms) == 0 {
		return nil
	}
	return r.engine.Test(index, collection, doc, id)
}

// HasRooms implements Registry.
func (r *LocalRegistry) HasRooms(index, collection string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.colls[index+"/"+collection] > 0
}

// Room implements Registry.
func (r *LocalRegistry) Room(roomID string) (RoomInfo, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	room, ok := r.rooms[roomID]
	if !ok {
		return RoomInfo{}, false
	}
	return *room, true
}

// Rooms implements Registry.
func (r *LocalRegistry) Rooms() []RoomInfo {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]RoomInfo, 0, len(r.rooms))
	for _, room := range r.rooms {
		out = append(out, *room)
	}
	return out
}
