package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/rueidis"

	"github.com/streamcluster/streamcluster/koncorde"
	"github.com/streamcluster/streamcluster/node"
	"github.com/streamcluster/streamcluster/realtime"
	"github.com/streamcluster/streamcluster/streams"
)

// TypeRoomCounts is the control entry type of the registry: a node's
// absolute subscriber counts of some rooms (see countsEntry).
const TypeRoomCounts = "RoomCounts"

// DefaultTimeout is RegistryConfig.Timeout's default.
const DefaultTimeout = 3 * time.Second

// stripes is the number of locks that serialize this node's writes per
// room, so that its absolute counts reach Redis in the order they were
// taken.
const stripes = 64

// RegistryConfig configures a Registry.
type RegistryConfig struct {
	// Koncorde configures the filter engine; its zero fields take
	// koncorde's defaults (Kuzzle's). Every node must use the same seed.
	Koncorde koncorde.Config
	// Timeout bounds one Redis write or snapshot read (default DefaultTimeout).
	Timeout time.Duration
	// Registerer receives the registry's gauges (default: none):
	// streamcluster_realtime_rooms (cluster rooms in this replica) and
	// streamcluster_realtime_local_rooms (rooms with subscribers here).
	Registerer prometheus.Registerer
	// Logger receives the registry's logs (default: discarded).
	Logger *slog.Logger
}

// ErrInvalidConfig is wrapped by every error of RegistryConfig.Validate and
// RouterConfig.Validate.
var ErrInvalidConfig = errors.New("cluster: invalid config")

func (c RegistryConfig) withDefaults() RegistryConfig {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first invalid field, after defaults.
func (c RegistryConfig) Validate() error {
	c = c.withDefaults()
	if c.Timeout < 0 {
		return fmt.Errorf("%w: timeout %v is negative", ErrInvalidConfig, c.Timeout)
	}
	if err := c.Koncorde.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return nil
}

// ResetKeys returns the registry's snapshot keys for node.Config.ResetKeys,
// so that node.Reset wipes them with the membership.
func ResetKeys(keys streams.Keys) []string {
	return []string{keys.Rooms(), subsKey(keys), totalsKey(keys)}
}

func subsKey(k streams.Keys) string   { return k.ControlKey("roomsubs") }
func totalsKey(k streams.Keys) string { return k.ControlKey("roomtotals") }

// countsEntry is the payload of a TypeRoomCounts entry. The sender is the
// envelope's sender. With Replace, the rooms are all of the sender's
// counts (its other counts are zero).
type countsEntry struct {
	Replace bool         `json:"replace,omitempty"`
	Rooms   []countsRoom `json:"rooms"`
}

type countsRoom struct {
	ID     string          `json:"id"`
	Count  int             `json:"n"`
	Filter json.RawMessage `json:"f,omitempty"` // koncorde.Filter JSON, when the receiver may not know the room
}

// Registry is the replicated room registry: a realtime.Registry whose rooms
// and per-node subscriber counts are replicated to every node through the
// control stream and its snapshot (see the package doc). Safe for
// concurrent use.
type Registry struct {
	client rueidis.Client
	node   *node.Node
	self   string
	keys   streams.Keys
	cfg    RegistryConfig
	log    *slog.Logger

	setCount, replace, cleanup *node.Mutation

	seed    maphash.Seed
	stripes [stripes]sync.Mutex
	// dirty is set when a write of this node's counts failed (its outcome
	// unknown): the next own heartbeat entry re-announces them all.
	dirty atomic.Bool

	mu        sync.RWMutex
	engine    *koncorde.Engine
	rooms     map[string]*room // rooms with a positive cluster-wide count
	colls     map[string]int   // "<index>/<collection>" → number of rooms
	local     map[string]*localRoom
	loadedSeq int64 // entries at or below it are in the last snapshot loaded
}

// room is a cluster room in the local replica.
type room struct {
	filter *koncorde.Filter
	counts map[string]int // node id → subscribers
	total  int
}

// localRoom is this node's own count of a room: the truth for this node,
// which the replicated table mirrors.
type localRoom struct {
	filter *koncorde.Filter
	count  int
}

var _ realtime.Registry = (*Registry)(nil)

// NewRegistry returns the registry of node n, which must not run yet: it
// registers its control-entry handlers and sync callback. client is the
// node's Redis client.
func NewRegistry(client rueidis.Client, n *node.Node, cfg RegistryConfig) (*Registry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	r := &Registry{
		client:   client,
		node:     n,
		self:     n.ID(),
		keys:     n.Keys(),
		cfg:      cfg,
		log:      cfg.Logger.With(slog.String("node", n.ID())),
		setCount: node.NewMutation(luaSetCount),
		replace:  node.NewMutation(luaReplace),
		cleanup:  node.NewMutation(luaCleanup),
		seed:     maphash.MakeSeed(),
		engine:   koncorde.NewEngine(cfg.Koncorde),
		rooms:    make(map[string]*room),
		colls:    make(map[string]int),
		local:    make(map[string]*localRoom),
	}
	err := errors.Join(
		n.Handle(TypeRoomCounts, r.handleCounts),
		n.Handle(node.TypeNodeLeft, r.handleLeft),
		n.Handle(node.TypeNodeEvicted, r.handleEvicted),
		n.Handle(node.TypeHeartbeat, r.handleHeartbeat),
		n.OnSync(r.onSync),
	)
	if err != nil {
		return nil, fmt.Errorf("cluster: register with the node: %w", err)
	}
	if cfg.Registerer != nil {
		err := errors.Join(
			cfg.Registerer.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "streamcluster_realtime_rooms", Help: "Cluster rooms (with subscribers on any node) in this node's replica.",
			}, func() float64 { return float64(r.lens().cluster) })),
			cfg.Registerer.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "streamcluster_realtime_local_rooms", Help: "Rooms with subscribers on this node.",
			}, func() float64 { return float64(r.lens().local) })),
		)
		if err != nil {
			return nil, fmt.Errorf("cluster: register metrics: %w", err)
		}
	}
	return r, nil
}

func (r *Registry) snapshotKeys() []string {
	return []string{r.keys.Rooms(), subsKey(r.keys), totalsKey(r.keys)}
}

func (r *Registry) stripe(roomID string) *sync.Mutex {
	return &r.stripes[maphash.String(r.seed, roomID)%stripes]
}

// AddSubscriber implements realtime.Registry: this node's count of the room
// goes up by one, locally at once and in the cluster through a mutation.
// When this node is fenced (evicted, rejoining) the local count stands and
// the rejoin re-announces it.
func (r *Registry) AddSubscriber(ctx context.Context, index, collection string, f *koncorde.Filter) error {
	id := f.RoomID()
	mu := r.stripe(id)
	mu.Lock()
	defer mu.Unlock()
	count := r.changeLocal(id, f, +1)
	err := r.publish(ctx, id, f, count)
	if err != nil {
		r.changeLocal(id, f, -1)
		return err
	}
	return nil
}

// RemoveSubscriber implements realtime.Registry. The local count goes down
// even when the cluster write fails (the subscriber is gone); the error is
// returned and the cluster keeps the old count until this node's next
// write of the room or its next rejoin.
func (r *Registry) RemoveSubscriber(ctx context.Context, roomID string) error {
	mu := r.stripe(roomID)
	mu.Lock()
	defer mu.Unlock()
	r.mu.RLock()
	lr, ok := r.local[roomID]
	r.mu.RUnlock()
	if !ok {
		return nil
	}
	count := r.changeLocal(roomID, lr.filter, -1)
	return r.publish(ctx, roomID, lr.filter, count)
}

// changeLocal adds delta to this node's count of the room and mirrors it in
// the replica. It returns the new count.
func (r *Registry) changeLocal(id string, f *koncorde.Filter, delta int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	lr, ok := r.local[id]
	if !ok {
		lr = &localRoom{filter: f}
		r.local[id] = lr
	}
	lr.count += delta
	if lr.count <= 0 {
		lr.count = 0
		delete(r.local, id)
	}
	r.setLocked(id, r.self, lr.count, f)
	return lr.count
}

// publish writes this node's absolute count of a room.
func (r *Registry) publish(ctx context.Context, id string, f *koncorde.Filter, count int) error {
	def, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("cluster: encode filter: %w", err)
	}
	withDef, err := json.Marshal(countsEntry{Rooms: []countsRoom{{ID: id, Count: count, Filter: def}}})
	if err != nil {
		return fmt.Errorf("cluster: encode counts: %w", err)
	}
	bare, err := json.Marshal(countsEntry{Rooms: []countsRoom{{ID: id, Count: count}}})
	if err != nil {
		return fmt.Errorf("cluster: encode counts: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	_, err = r.node.Mutate(ctx, r.setCount, r.snapshotKeys(),
		[]string{id, r.self, strconv.Itoa(count), string(def)},
		node.Append{Type: TypeRoomCounts, Data: withDef}, node.Append{Type: TypeRoomCounts, Data: bare})
	if errors.Is(err, node.ErrFenced) {
		r.log.Debug("fenced: the count will be re-announced on rejoin", slog.String("room", id))
		return nil
	}
	if err != nil {
		r.dirty.Store(true)
		return fmt.Errorf("cluster: write the count of room %s: %w", id, err)
	}
	return nil
}

// handleHeartbeat repairs this node's counts in the cluster after a failed
// write: on this node's own heartbeat entry (so within a heartbeat period
// once Redis answers again), it re-announces them all.
func (r *Registry) handleHeartbeat(ctx context.Context, e node.Entry) error {
	if e.Node != r.self || !r.dirty.CompareAndSwap(true, false) {
		return nil
	}
	if err := r.Reannounce(ctx); err != nil {
		r.dirty.Store(true)
		return err
	}
	return nil
}

// setLocked sets the count of nodeID in a room of the replica; f may be nil
// when the room is known. r.mu is held.
func (r *Registry) setLocked(id, nodeID string, count int, f *koncorde.Filter) {
	rm, ok := r.rooms[id]
	if !ok {
		if count <= 0 {
			return
		}
		if f == nil {
			r.log.Error("count of an unknown room without its filter; ignored", slog.String("room", id), slog.String("peer", nodeID))
			return
		}
		r.engine.Register(f)
		rm = &room{filter: f, counts: make(map[string]int)}
		r.rooms[id] = rm
		r.colls[collKey(f)]++
	}
	rm.total += count - rm.counts[nodeID]
	if count > 0 {
		rm.counts[nodeID] = count
	} else {
		delete(rm.counts, nodeID)
	}
	if rm.total <= 0 {
		delete(r.rooms, id)
		r.engine.Remove(id)
		k := collKey(rm.filter)
		if r.colls[k]--; r.colls[k] <= 0 {
			delete(r.colls, k)
		}
	}
}

func collKey(f *koncorde.Filter) string { return f.Index() + "/" + f.Collection() }

// dropNodeLocked removes every count of nodeID from the replica.
func (r *Registry) dropNodeLocked(nodeID string) {
	for id, rm := range r.rooms {
		if _, ok := rm.counts[nodeID]; ok {
			r.setLocked(id, nodeID, 0, nil)
		}
	}
}

// handleCounts applies a peer's counts. This node's own entries are
// skipped: its local table is the truth and is already in the replica.
func (r *Registry) handleCounts(_ context.Context, e node.Entry) error {
	if e.Node == r.self {
		return nil
	}
	var ce countsEntry
	if err := json.Unmarshal(e.Data, &ce); err != nil {
		return fmt.Errorf("cluster: %s entry: %w", TypeRoomCounts, err)
	}
	filters := make([]*koncorde.Filter, len(ce.Rooms))
	for i, cr := range ce.Rooms {
		if len(cr.Filter) == 0 {
			continue
		}
		f, err := koncorde.UnmarshalFilter(r.cfg.Koncorde, cr.Filter)
		if err != nil {
			return fmt.Errorf("cluster: filter of room %s: %w", cr.ID, err)
		}
		if f.RoomID() != cr.ID {
			return fmt.Errorf("cluster: room %s: its filter hashes to %s", cr.ID, f.RoomID())
		}
		filters[i] = f
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.Seq <= r.loadedSeq {
		return nil // already in the snapshot
	}
	if ce.Replace {
		r.dropNodeLocked(e.Node)
	}
	for i, cr := range ce.Rooms {
		r.setLocked(cr.ID, e.Node, cr.Count, filters[i])
	}
	return nil
}

// handleLeft drops the counts of a node that left.
func (r *Registry) handleLeft(ctx context.Context, e node.Entry) error {
	return r.departed(ctx, e, e.Node)
}

// handleEvicted drops the counts of an evicted node.
func (r *Registry) handleEvicted(ctx context.Context, e node.Entry) error {
	var ev node.NodeEvicted
	if err := json.Unmarshal(e.Data, &ev); err != nil || ev.ID == "" {
		return fmt.Errorf("cluster: %s entry without a node id: %w", node.TypeNodeEvicted, err)
	}
	return r.departed(ctx, e, ev.ID)
}

// departed drops a departed node's counts from the replica, then from the
// snapshot: node's leave and evict scripts do not know the registry's keys,
// so every node runs the (idempotent) cleanup mutation, which does nothing
// when the node is a member again.
func (r *Registry) departed(ctx context.Context, e node.Entry, id string) error {
	if id == r.self {
		return nil
	}
	r.mu.Lock()
	if e.Seq > r.loadedSeq {
		r.dropNodeLocked(id)
	}
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	keys := append(r.snapshotKeys(), r.keys.Members())
	_, err := r.node.Mutate(ctx, r.cleanup, keys, []string{id})
	if err != nil && !errors.Is(err, node.ErrFenced) {
		return fmt.Errorf("cluster: remove the counts of %s from the snapshot: %w", id, err)
	}
	return nil
}

// onSync reloads the replica from the snapshot, then re-announces this
// node's counts: on rejoin they were wiped with its membership; on join,
// subscriptions taken before the join completed were not written (fenced),
// and fields a previous process with this id left are replaced; on resync
// (a sequence gap: a failover may have lost acknowledged writes) this
// node's own fields may be stale.
func (r *Registry) onSync(ctx context.Context, s node.Sync) {
	var err error
	for attempt := range loadAttempts {
		if attempt > 0 && !sleep(ctx, r.cfg.Timeout/10) {
			return
		}
		if err = r.load(ctx); err == nil {
			break
		}
		r.log.Warn("load the room snapshot", slog.String("reason", s.Reason.String()), slog.Int("attempt", attempt+1), slog.Any("err", err))
	}
	if err != nil {
		// The replica keeps its previous state; the next sync (the node
		// resyncs or rejoins after a Redis outage) loads it again.
		r.log.Error("room snapshot not loaded; the replica may be stale until the next sync", slog.Any("err", err))
	}
	if err := r.Reannounce(ctx); err != nil {
		r.log.Error("re-announce the local rooms", slog.String("reason", s.Reason.String()), slog.Any("err", err))
	}
}

// loadAttempts bounds the snapshot reads of one sync.
const loadAttempts = 3

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// load replaces the replica with the snapshot (plus this node's own counts).
func (r *Registry) load(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	keys := []string{r.keys.Seq(), r.keys.Rooms(), subsKey(r.keys), r.keys.Members()}
	arr, err := snapshotScript.Exec(ctx, r.client, keys, nil).ToArray()
	if err != nil {
		return err
	}
	if len(arr) != 4 {
		return fmt.Errorf("snapshot: %d values", len(arr))
	}
	seqStr, err1 := arr[0].ToString()
	defs, err2 := arr[1].AsStrMap()
	subs, err3 := arr[2].AsStrMap()
	members, err4 := arr[3].AsStrMap()
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	seq, err := strconv.ParseInt(seqStr, 10, 64)
	if err != nil {
		return fmt.Errorf("snapshot sequence: %w", err)
	}
	filters := make(map[string]*koncorde.Filter, len(defs))
	for id, js := range defs {
		f, err := koncorde.UnmarshalFilter(r.cfg.Koncorde, []byte(js))
		if err != nil || f.RoomID() != id {
			r.log.Error("snapshot: bad room filter; room skipped", slog.String("room", id), slog.Any("err", err))
			continue
		}
		filters[id] = f
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	r.engine = koncorde.NewEngine(r.cfg.Koncorde)
	r.rooms = make(map[string]*room)
	r.colls = make(map[string]int)
	r.loadedSeq = seq
	for field, v := range subs {
		id, nodeID, ok := strings.Cut(field, "|")
		if !ok || nodeID == r.self {
			continue
		}
		if _, member := members[nodeID]; !member {
			continue // a departed node whose cleanup has not run: no ghost rooms
		}
		count, err := strconv.Atoi(v)
		if err != nil {
			continue
		}
		f := filters[id]
		if f == nil {
			continue
		}
		r.setLocked(id, nodeID, count, f)
	}
	for id, lr := range r.local {
		r.setLocked(id, r.self, lr.count, lr.filter)
	}
	return nil
}

// Reannounce replaces this node's counts in the cluster by its local table
// (called after every sync; safe to call at any time).
func (r *Registry) Reannounce(ctx context.Context) error {
	for i := range r.stripes {
		r.stripes[i].Lock()
	}
	defer func() {
		for i := range r.stripes {
			r.stripes[i].Unlock()
		}
	}()
	r.mu.RLock()
	ids := make([]string, 0, len(r.local))
	for id := range r.local {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	ce := countsEntry{Replace: true, Rooms: make([]countsRoom, 0, len(ids))}
	args := make([]string, 0, 1+3*len(ids))
	args = append(args, r.self)
	for _, id := range ids {
		lr := r.local[id]
		def, err := json.Marshal(lr.filter)
		if err != nil {
			r.mu.RUnlock()
			return fmt.Errorf("cluster: encode filter: %w", err)
		}
		ce.Rooms = append(ce.Rooms, countsRoom{ID: id, Count: lr.count, Filter: def})
		args = append(args, id, strconv.Itoa(lr.count), string(def))
	}
	r.mu.RUnlock()
	data, err := json.Marshal(ce)
	if err != nil {
		return fmt.Errorf("cluster: encode counts: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	if _, err := r.node.Mutate(ctx, r.replace, r.snapshotKeys(), args, node.Append{Type: TypeRoomCounts, Data: data}); err != nil {
		return fmt.Errorf("cluster: re-announce %d rooms: %w", len(ids), err)
	}
	r.log.Info("re-announced the local rooms", slog.Int("rooms", len(ids)))
	return nil
}

// Match implements realtime.Registry.
func (r *Registry) Match(index, collection string, doc map[string]any, id string) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.rooms) == 0 {
		return nil
	}
	return r.engine.Test(index, collection, doc, id)
}

// HasRooms implements realtime.Registry.
func (r *Registry) HasRooms(index, collection string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.colls[index+"/"+collection] > 0
}

// Room implements realtime.Registry; Count is the cluster-wide count.
func (r *Registry) Room(roomID string) (realtime.RoomInfo, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	rm, ok := r.rooms[roomID]
	if !ok {
		return realtime.RoomInfo{}, false
	}
	return info(roomID, rm), true
}

// Rooms implements realtime.Registry.
func (r *Registry) Rooms() []realtime.RoomInfo {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]realtime.RoomInfo, 0, len(r.rooms))
	for id, rm := range r.rooms {
		out = append(out, info(id, rm))
	}
	return out
}

func info(id string, rm *room) realtime.RoomInfo {
	return realtime.RoomInfo{ID: id, Index: rm.filter.Index(), Collection: rm.filter.Collection(), Filter: rm.filter, Count: rm.total}
}

// Counts returns the subscriber count of each node in the room (node id →
// count; nil when the room is unknown).
func (r *Registry) Counts(roomID string) map[string]int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	rm, ok := r.rooms[roomID]
	if !ok {
		return nil
	}
	out := make(map[string]int, len(rm.counts))
	for n, c := range rm.counts {
		out[n] = c
	}
	return out
}

// targets groups rooms by the other nodes that have subscribers in them.
func (r *Registry) targets(rooms []string) map[string][]string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out map[string][]string
	for _, id := range rooms {
		rm, ok := r.rooms[id]
		if !ok {
			continue
		}
		for n := range rm.counts {
			if n == r.self {
				continue
			}
			if out == nil {
				out = make(map[string][]string)
			}
			out[n] = append(out[n], id)
		}
	}
	return out
}

func (r *Registry) lens() (n struct{ cluster, local int }) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	n.cluster, n.local = len(r.rooms), len(r.local)
	return n
}

// Local returns this node's own subscriber count of each room, the table
// it re-announces on rejoin (it mirrors realtime.Hub.LocalRooms).
func (r *Registry) Local() map[string]int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make(map[string]int, len(r.local))
	for id, lr := range r.local {
		out[id] = lr.count
	}
	return out
}
