package node

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/streamcluster/streamcluster/consumer"
	"github.com/streamcluster/streamcluster/streams"
)

// maxBlock caps one blocking read, hence how long Run takes to return after
// its context ends (rueidis cannot interrupt a blocking command).
const maxBlock = 250 * time.Millisecond

// Control entry types written by the node itself (streams envelope types).
// Other packages add their own types through Mutation and Handle.
const (
	TypeNodeJoined  = "NodeJoined"
	TypeHeartbeat   = "Heartbeat"
	TypeNodeLeft    = "NodeLeft"
	TypeNodeEvicted = "NodeEvicted"
)

// IDCard is what a node registers when it joins.
type IDCard struct {
	ID        string    `json:"id"`
	Address   string    `json:"address"` // client-facing API address
	Version   string    `json:"version"`
	StartedAt time.Time `json:"startedAt"`
}

// Member is one live node as this node sees it.
type Member struct {
	IDCard
	Incarnation  uint64
	Self         bool
	Ready        bool          // as announced in its last heartbeat (for Self: Node.Ready)
	HeartbeatAge time.Duration // since its last entry was read (for Self: since the last acknowledged heartbeat)
	Lag          int64         // control entries its group has not read yet; -1 when unknown
}

// Entry is one control-stream entry handed to a Handler: a decoded (and,
// with Config.Secret, verified) streams envelope.
type Entry struct {
	ID          string // stream entry id
	Seq         int64  // cluster-wide sequence number (field "q")
	Type        string // envelope type
	Node        string // sender
	Incarnation uint64 // sender's incarnation
	Data        []byte // envelope payload
}

// Handler applies a control entry to replicated state. Handlers run on the
// node's driver goroutine, one entry at a time, in stream order; they must
// not block for long (a slow handler delays heartbeats). An error is logged
// and the entry is skipped.
type Handler func(ctx context.Context, e Entry) error

// SyncReason tells why this node (re)loaded the snapshot.
type SyncReason int

const (
	// SyncJoin: the first join of this process.
	SyncJoin SyncReason = iota + 1
	// SyncRejoin: the node was evicted (or the cluster reset) and joined
	// again with a new incarnation; its local live state (subscriptions)
	// must be re-announced.
	SyncRejoin
	// SyncResync: a sequence gap or a lost group made the node reload the
	// snapshot; its membership did not change.
	SyncResync
)

func (r SyncReason) String() string {
	switch r {
	case SyncJoin:
		return "join"
	case SyncRejoin:
		return "rejoin"
	case SyncResync:
		return "resync"
	}
	return "unknown"
}

// Sync describes a snapshot load. Entries with a sequence number at or
// below Seq are in the snapshot; handlers then see every later entry.
type Sync struct {
	Reason      SyncReason
	Seq         int64
	Incarnation uint64
}

// Node is one member of the cluster: it joins, heartbeats, reads the
// control stream through its own consumer group, evicts silent peers,
// rejoins when evicted and leaves on request. See the package doc.
type Node struct {
	client rueidis.Client
	cfg    Config
	keys   streams.Keys
	codec  *streams.Codec // encodes, signs, verifies control entries; counts rejections
	log    *slog.Logger
	card   IDCard
	cardJS string
	// fingerprint identifies the secret without revealing it: the join
	// script refuses a node whose secret differs from the live members'.
	fingerprint string

	handlers map[string][]Handler
	syncs    []func(context.Context, Sync)
	started  atomic.Bool
	done     chan struct{}

	// Owned by the driver goroutine (Run).
	det     *Detector
	lastSeq int64
	failing bool // the last Redis call failed (logs once per outage)

	mu        sync.Mutex
	st        state
	leaveOnce sync.Once
	leaveErr  error
}

type state struct {
	member      bool
	leaving     bool // Leave was called: never rejoin
	incarnation uint64
	members     map[string]*memberState
	lastAck     time.Time
	drainedAt   time.Time
	appliedSeq  int64
	knownSeq    int64 // sequence number of this node's last acknowledged heartbeat
	evictions   uint64
	rejoins     uint64
	resyncs     uint64
}

type memberState struct {
	card     IDCard
	inc      uint64
	ready    bool
	lastSeen time.Time
}

// New returns a node that uses client (database 0 of a Redis Cluster or a
// standalone server). It does no I/O: Run joins.
func New(client rueidis.Client, cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	cfg.ResetKeys = append([]string(nil), cfg.ResetKeys...)
	cfg.Secret = append([]byte(nil), cfg.Secret...)
	if cfg.ID == "" {
		var b [6]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("node: random id: %w", err)
		}
		cfg.ID = "knode-" + hex.EncodeToString(b[:])
	}
	n := &Node{
		client:   client,
		cfg:      cfg,
		keys:     streams.NewKeys(cfg.Prefix),
		codec:    streams.NewCodec(cfg.Secret),
		log:      cfg.Logger.With(slog.String("node", cfg.ID)),
		card:     IDCard{ID: cfg.ID, Address: cfg.APIAddress, Version: cfg.Version, StartedAt: time.Now().UTC()},
		handlers: make(map[string][]Handler),
		done:     make(chan struct{}),
		det:      NewDetector(cfg.EvictionTimeout),
		st:       state{members: make(map[string]*memberState)},
	}
	js, err := json.Marshal(n.card)
	if err != nil {
		return nil, fmt.Errorf("node: id card: %w", err)
	}
	n.cardJS = string(js)
	n.fingerprint = secretFingerprint(cfg.Secret)
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(newCollector(n)); err != nil {
			return nil, fmt.Errorf("node: register metrics: %w", err)
		}
	}
	return n, nil
}

// ID returns the node id.
func (n *Node) ID() string { return n.cfg.ID }

// Keys returns the key names of the cluster.
func (n *Node) Keys() streams.Keys { return n.keys }

// Rejected returns how many control entries this node skipped because
// they were malformed, of an unknown version, unsigned or badly signed.
// Safe for concurrent use.
func (n *Node) Rejected() streams.RejectStats { return n.codec.Rejected() }

// scriptKeys are the six keys every control-plane script takes first.
func (n *Node) scriptKeys() []string {
	k := n.keys
	return []string{k.Control(), k.Seq(), k.Incarnation(), k.Members(), k.Nodes(), k.Heartbeats()}
}

// encode encodes a control entry from sender (with its incarnation) for a
// script that appends it: the script arguments blob and sig ("" when the
// codec does not sign). The cluster sequence is added by the script.
func (n *Node) encode(typ, sender string, inc uint64, payload []byte) ([]string, error) {
	f, err := n.codec.EncodeControl(streams.Envelope{
		Type: typ, Sender: sender, Incarnation: inc, Time: time.Now().UnixMilli(), Payload: payload,
	})
	if err != nil {
		return nil, fmt.Errorf("node: encode %s: %w", typ, err)
	}
	return []string{f.Blob, f.Sig}, nil
}

// Config returns the node's configuration, defaults applied.
func (n *Node) Config() Config { return n.cfg }

// Handle registers h for control entries of type typ (the node's own types
// included, after the node applied them). Call it before Run.
func (n *Node) Handle(typ string, h Handler) error {
	if n.started.Load() {
		return ErrRunning
	}
	n.handlers[typ] = append(n.handlers[typ], h)
	return nil
}

// OnSync registers f, called on the driver goroutine after each snapshot
// load (join, rejoin, resync), before any later entry is handled. On
// SyncRejoin, f re-announces this node's live local state with Mutate.
// Call it before Run.
func (n *Node) OnSync(f func(context.Context, Sync)) error {
	if n.started.Load() {
		return ErrRunning
	}
	n.syncs = append(n.syncs, f)
	return nil
}

// Run joins the cluster and runs the node until ctx is done or Leave is
// called. It returns ErrJoinFailed (wrapped) when the first join fails
// Config.RetryJoin times, nil otherwise. Cancelling ctx does not leave the
// cluster (peers evict the node after the timeout): call Leave for a
// graceful stop, before or after cancelling ctx. All of Run's work happens
// on the calling goroutine (the driver): handlers and OnSync callbacks run
// there.
func (n *Node) Run(ctx context.Context) error {
	if !n.started.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer close(n.done)
	if err := n.firstJoin(ctx); err != nil {
		return err
	}
	nextHB := time.Now().Add(n.cfg.Heartbeat)
	for ctx.Err() == nil && !n.isLeaving() {
		nextHB = n.step(ctx, nextHB)
	}
	return nil
}

func (n *Node) isLeaving() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.st.leaving
}

func (n *Node) firstJoin(ctx context.Context) error {
	var err error
	for attempt := 1; n.cfg.RetryJoin < 0 || attempt <= n.cfg.RetryJoin; attempt++ {
		if err = n.join(ctx, SyncJoin); err == nil {
			return nil
		}
		n.log.Warn("join failed", slog.Int("attempt", attempt), slog.Any("err", err))
		if !sleep(ctx, n.cfg.JoinAttemptInterval) {
			return nil
		}
	}
	return fmt.Errorf("%w after %d attempts: %w", ErrJoinFailed, n.cfg.RetryJoin, err)
}

// step does one round of the driver: a blocking read bounded by the next
// heartbeat, the heartbeat when due, then evictions. It returns the time of
// the next heartbeat.
func (n *Node) step(ctx context.Context, nextHB time.Time) time.Time {
	hb := n.cfg.Heartbeat
	if n.isLeaving() {
		return nextHB
	}
	if !n.isMember() {
		// Fenced: rejoin now, then every heartbeat until it works.
		if err := n.join(ctx, SyncRejoin); err != nil && ctx.Err() == nil {
			if errors.Is(err, ErrSecretMismatch) {
				n.log.Error("rejoin refused", slog.Any("err", err))
			}
			n.failed(time.Now(), "rejoin", err)
			sleep(ctx, hb)
		}
		return time.Now().Add(hb)
	}

	until := time.Until(nextHB)
	if at, ok := n.det.NextCheck(); ok {
		// Floor: a suspect that cannot be evicted yet (not caught up)
		// must not turn this loop into a busy one.
		until = min(until, max(time.Until(at), 10*time.Millisecond))
	}
	block := min(max(until, time.Millisecond), hb, maxBlock)
	entries, err := n.read(ctx, block)
	now := time.Now()
	switch {
	case err == nil:
		n.applyBatch(ctx, entries, now)
	case ctx.Err() != nil:
		return nextHB
	case n.isLeaving():
		// Leave destroyed the group under the blocked read: not a fault.
		return nextHB
	case classify(err) == unblocked:
		// A failover (the next read fails or finds the new master) or a
		// deleted stream (the next read gets NOGROUP).
		n.log.Debug("control read unblocked", slog.Any("err", err))
	case classify(err) == groupLost:
		n.log.Warn("control group lost; resyncing", slog.Any("err", err))
		n.resync(ctx)
	default:
		n.failed(now, "read", err)
		sleep(ctx, min(max(time.Until(nextHB), time.Millisecond), hb/4))
	}

	if now = time.Now(); !now.Before(nextHB) {
		n.heartbeat(ctx)
		nextHB = nextHB.Add(hb)
		if now = time.Now(); nextHB.Before(now) {
			nextHB = now.Add(hb)
		}
	}
	n.evictSuspects(ctx)
	return nextHB
}

func (n *Node) isMember() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.st.member
}

func (n *Node) identity() (id string, inc uint64, member bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cfg.ID, n.st.incarnation, n.st.member
}

// failed records a failed Redis call: the node stops suspecting peers
// until it has been in contact with Redis again for a whole timeout.
func (n *Node) failed(now time.Time, op string, err error) {
	n.det.Failed(now)
	if !n.failing {
		n.log.Warn("redis unreachable; not ready until it is back, evicting nobody", slog.String("op", op), slog.Any("err", err))
	}
	n.failing = true
}

func (n *Node) recovered() {
	if n.failing {
		n.log.Info("redis reachable again")
	}
	n.failing = false
}

// join registers this node with a new incarnation and loads the snapshot.
func (n *Node) join(ctx context.Context, reason SyncReason) error {
	jctx, cancel := context.WithTimeout(ctx, n.cfg.JoinTimeout)
	defer cancel()
	// The incarnation is taken before the script, so that the NodeJoined
	// envelope can be encoded (and signed) with it in Go. A join that then
	// fails burns an incarnation number, which is harmless.
	newInc, err := n.client.Do(jctx, n.client.B().Incr().Key(n.keys.Incarnation()).Build()).AsInt64()
	if err != nil {
		return fmt.Errorf("node: incarnation: %w", err)
	}
	if newInc <= 0 {
		return fmt.Errorf("node: incarnation counter %s is %d", n.keys.Incarnation(), newInc)
	}
	inc := uint64(newInc)
	incStr := strconv.FormatUint(inc, 10)
	entry, err := n.encode(TypeNodeJoined, n.cfg.ID, inc, []byte(n.cardJS))
	if err != nil {
		return err
	}
	args := append([]string{n.cfg.ID, incStr, n.cardJS, strconv.FormatInt(n.cfg.StreamMaxLen, 10)}, entry...)
	args = append(args, n.fingerprint)
	keys := append(n.scriptKeys(), n.keys.ControlKey("secret-fingerprint"))
	arr, err := n.exec(jctx, scriptJoin, keys, args, true).ToArray()
	if err != nil {
		return fmt.Errorf("node: join script: %w", err)
	}
	if len(arr) == 1 {
		return ErrSecretMismatch
	}
	if len(arr) != 6 {
		return fmt.Errorf("node: join script: %d values", len(arr))
	}
	seq, err1 := arr[1].AsInt64()
	snap, err2 := parseSnapshot(arr[3], arr[4], arr[5])
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("node: join reply: %w", err)
	}
	// The inbox group: directed traffic for this node (read by the
	// realtime layer). It survives rejoins; recreate it when it was deleted.
	err = n.client.Do(jctx, n.client.B().XgroupCreate().Key(n.keys.Inbox(n.cfg.ID)).Group(n.cfg.ID).Id("$").Mkstream().Build()).Error()
	if err != nil && !rueidis.IsRedisBusyGroup(err) {
		return fmt.Errorf("node: inbox group: %w", err)
	}

	now := time.Now()
	n.lastSeq = seq
	n.loadSnapshot(snap, now, func(s *state) {
		s.member = true
		s.incarnation = inc
		s.lastAck = now
		s.drainedAt = now
		s.knownSeq = seq
		if reason == SyncRejoin {
			s.rejoins++
		}
	})
	n.det.Acked(now)
	n.recovered()
	if n.isLeaving() {
		// Leave ran while this join was in flight: undo it.
		err := n.leaveScript(ctx, inc)
		n.mu.Lock()
		n.st.member = false
		n.mu.Unlock()
		if err != nil {
			return fmt.Errorf("node: leave after a join raced with Leave: %w", err)
		}
		return nil
	}
	n.log.Info("joined the cluster", slog.String("reason", reason.String()), slog.Uint64("incarnation", inc),
		slog.Int64("seq", seq), slog.Int("members", len(snap)))
	n.notifySync(ctx, Sync{Reason: reason, Seq: seq, Incarnation: inc})
	return nil
}

// resync reloads the snapshot and moves this node's group to its point.
func (n *Node) resync(ctx context.Context) {
	id, inc, _ := n.identity()
	rctx, cancel := context.WithTimeout(ctx, n.cfg.JoinTimeout)
	defer cancel()
	arr, err := n.exec(rctx, scriptResync, n.scriptKeys(), []string{id, strconv.FormatUint(inc, 10)}, false).ToArray()
	if err != nil {
		n.failed(time.Now(), "resync", err)
		return
	}
	if code, _ := arr[0].AsInt64(); code == 0 {
		n.fenced("resync")
		return
	}
	if len(arr) != 5 {
		n.log.Error("resync script: unexpected reply", slog.Int("values", len(arr)))
		return
	}
	seq, err1 := arr[1].AsInt64()
	snap, err2 := parseSnapshot(arr[2], arr[3], arr[4])
	if err := errors.Join(err1, err2); err != nil {
		n.log.Error("resync reply", slog.Any("err", err))
		return
	}
	now := time.Now()
	n.lastSeq = seq
	var incarnation uint64
	n.loadSnapshot(snap, now, func(s *state) {
		s.resyncs++
		s.drainedAt = now
		incarnation = s.incarnation
	})
	n.log.Info("resynced from the snapshot", slog.Int64("seq", seq), slog.Int("members", len(snap)))
	n.notifySync(ctx, Sync{Reason: SyncResync, Seq: seq, Incarnation: incarnation})
}

func (n *Node) notifySync(ctx context.Context, s Sync) {
	for _, f := range n.syncs {
		f(ctx, s)
	}
}

// fenced marks this node as no longer a member: it is not ready and the
// driver rejoins.
func (n *Node) fenced(where string) {
	n.mu.Lock()
	was := n.st.member
	n.st.member = false
	n.mu.Unlock()
	if was {
		n.log.Warn("this node was evicted (or the cluster reset); rejoining", slog.String("noticed_by", where))
	}
}

type snapshotMember struct {
	card IDCard
	inc  uint64
}

func parseSnapshot(members, cards, hbs rueidis.RedisMessage) (map[string]snapshotMember, error) {
	incs, err := members.AsStrMap()
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	cardJS, err := cards.AsStrMap()
	if err != nil {
		return nil, fmt.Errorf("cards: %w", err)
	}
	out := make(map[string]snapshotMember, len(incs))
	for id, s := range incs {
		inc, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("incarnation of %s: %w", id, err)
		}
		m := snapshotMember{inc: inc, card: IDCard{ID: id}}
		if js, ok := cardJS[id]; ok {
			if err := json.Unmarshal([]byte(js), &m.card); err != nil {
				return nil, fmt.Errorf("card of %s: %w", id, err)
			}
		}
		out[id] = m
	}
	_ = hbs // the Redis times are not comparable with the local clock; peers get a full timeout from now
	return out, nil
}

func (n *Node) loadSnapshot(snap map[string]snapshotMember, now time.Time, update func(*state)) {
	n.det.Reset()
	n.mu.Lock()
	clear(n.st.members)
	for id, m := range snap {
		n.st.members[id] = &memberState{card: m.card, inc: m.inc, lastSeen: now}
	}
	n.st.appliedSeq = n.lastSeq
	update(&n.st)
	n.mu.Unlock()
	for id, m := range snap {
		if id != n.cfg.ID {
			n.det.Seen(id, m.inc, now)
		}
	}
}

// read reads the next batch of the control stream through this node's
// group. NOACK: the group's position is the node's position; entries are
// never re-read (a restart or rejoin starts from a fresh snapshot).
func (n *Node) read(ctx context.Context, block time.Duration) ([]rueidis.XRangeEntry, error) {
	rctx, cancel := context.WithTimeout(ctx, block+n.cfg.EvictionTimeout)
	defer cancel()
	cmd := n.client.B().Xreadgroup().Group(n.cfg.ID, n.cfg.ID).Count(n.cfg.ReadCount).
		Block(block.Milliseconds()).Noack().Streams().Key(n.keys.Control()).Id(">").Build()
	res, err := n.client.Do(rctx, cmd).AsXRead()
	if rueidis.IsRedisNil(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return res[n.keys.Control()], nil
}

// decodeEntry decodes one control entry with the node's codec (which
// counts rejections by reason).
func (n *Node) decodeEntry(x rueidis.XRangeEntry) (Entry, error) {
	env, err := n.codec.Decode(x.FieldValues)
	if err != nil {
		return Entry{}, err
	}
	if env.Seq > math.MaxInt64 {
		return Entry{}, fmt.Errorf("sequence %d out of range", env.Seq)
	}
	return Entry{ID: x.ID, Seq: int64(env.Seq), Type: env.Type, Node: env.Sender, Incarnation: env.Incarnation, Data: env.Payload}, nil
}

func (n *Node) applyBatch(ctx context.Context, entries []rueidis.XRangeEntry, now time.Time) {
	n.recovered()
	for _, x := range entries {
		e, err := n.decodeEntry(x)
		if err != nil {
			// Skipped as if it were not there, and the sequence is not
			// advanced, whatever "q" it carries: "q" is outside the
			// signature, so a rejected entry's sequence is not trusted
			// either. A forged entry written through the append script
			// burned a real sequence number: the next valid entry then
			// shows a gap and the node resyncs from the snapshot. Either
			// way a forger without the secret cannot change state, only
			// cost a resync.
			n.log.Warn("control entry rejected and skipped (malformed, unsigned or badly signed)",
				slog.String("entry", x.ID), slog.Any("err", err))
			continue
		}
		if e.Seq != n.lastSeq+1 {
			n.log.Warn("control sequence gap; resyncing from the snapshot",
				slog.Int64("expected", n.lastSeq+1), slog.Int64("got", e.Seq))
			n.resync(ctx)
			return
		}
		n.lastSeq = e.Seq
		if !n.apply(e, now) {
			n.fenced("stream")
			return
		}
		for _, h := range n.handlers[e.Type] {
			if err := h(ctx, e); err != nil {
				n.log.Error("control entry handler", slog.String("type", e.Type), slog.Int64("seq", e.Seq), slog.Any("err", err))
			}
		}
	}
	n.mu.Lock()
	n.st.appliedSeq = n.lastSeq
	if int64(len(entries)) < n.cfg.ReadCount {
		n.st.drainedAt = now
	}
	n.mu.Unlock()
}

// apply applies a membership entry to the local member list. It returns
// false when the entry evicts this node.
func (n *Node) apply(e Entry, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	self := n.cfg.ID
	switch e.Type {
	case TypeNodeJoined:
		if e.Node == self {
			if e.Incarnation != n.st.incarnation {
				n.log.Error("another process joined with this node's id", slog.Uint64("incarnation", e.Incarnation))
			}
			return true
		}
		card := IDCard{ID: e.Node}
		if err := json.Unmarshal(e.Data, &card); err != nil {
			n.log.Error("NodeJoined: bad id card", slog.String("peer", e.Node), slog.Any("err", err))
		}
		n.st.members[e.Node] = &memberState{card: card, inc: e.Incarnation, lastSeen: now}
		n.det.Seen(e.Node, e.Incarnation, now)
		n.log.Info("peer joined", slog.String("peer", e.Node), slog.Uint64("incarnation", e.Incarnation), slog.String("address", card.Address))
	case TypeHeartbeat:
		m, ok := n.st.members[e.Node]
		if !ok || m.inc != e.Incarnation {
			return true
		}
		m.lastSeen = now
		var hb heartbeatData
		if err := json.Unmarshal(e.Data, &hb); err == nil {
			m.ready = hb.Ready
		}
		if e.Node != self {
			n.det.Seen(e.Node, e.Incarnation, now)
		}
	case TypeNodeLeft:
		n.removeLocked(e.Node, e.Incarnation)
		n.log.Info("peer left", slog.String("peer", e.Node))
	case TypeNodeEvicted:
		var ev NodeEvicted
		if err := json.Unmarshal(e.Data, &ev); err != nil {
			n.log.Error("NodeEvicted: bad data", slog.Any("err", err))
			return true
		}
		inc, _ := strconv.ParseUint(ev.Incarnation, 10, 64)
		if ev.ID == self && inc == n.st.incarnation {
			return false
		}
		n.removeLocked(ev.ID, inc)
		n.log.Info("peer evicted", slog.String("peer", ev.ID), slog.String("by", e.Node), slog.String("reason", ev.Reason))
	}
	return true
}

func (n *Node) removeLocked(id string, inc uint64) {
	if m, ok := n.st.members[id]; ok && m.inc == inc && id != n.cfg.ID {
		delete(n.st.members, id)
		n.det.Forget(id)
	}
}

type heartbeatData struct {
	Ready bool  `json:"ready"`
	Seq   int64 `json:"seq"` // last sequence number the sender applied
}

// NodeEvicted is the JSON payload (Entry.Data) of a TypeNodeEvicted entry.
// Entry.Node of that entry is the evictor; ID is the evicted node.
type NodeEvicted struct {
	ID          string `json:"id"`          // the evicted node
	Incarnation string `json:"incarnation"` // its incarnation, decimal (a uint64 as a string)
	Reason      string `json:"reason"`      // e.g. "heartbeat timeout"
	SilenceMs   int64  `json:"silenceMs"`   // how long it had been silent, in milliseconds
}

// heartbeat appends this node's heartbeat; a fenced reply means this node
// was evicted.
func (n *Node) heartbeat(ctx context.Context) {
	id, inc, member := n.identity()
	if !member {
		return
	}
	data, err := json.Marshal(heartbeatData{Ready: n.Ready(), Seq: n.lastSeq})
	if err != nil {
		n.log.Error("heartbeat data", slog.Any("err", err))
		return
	}
	entry, err := n.encode(TypeHeartbeat, id, inc, data)
	if err != nil {
		n.log.Error("heartbeat", slog.Any("err", err))
		return
	}
	hctx, cancel := context.WithTimeout(ctx, n.cfg.Heartbeat)
	defer cancel()
	args := append([]string{id, strconv.FormatUint(inc, 10), strconv.FormatInt(n.cfg.StreamMaxLen, 10)}, entry...)
	arr, err := n.exec(hctx, scriptHeartbeat, n.scriptKeys(), args, false).ToArray()
	now := time.Now()
	if err != nil {
		if ctx.Err() == nil {
			n.failed(now, "heartbeat", err)
		}
		return
	}
	if code, _ := arr[0].AsInt64(); code == 0 {
		n.fenced("heartbeat")
		return
	}
	seq, _ := arr[1].AsInt64()
	n.det.Acked(now)
	n.recovered()
	n.mu.Lock()
	n.st.lastAck = now
	n.st.knownSeq = seq
	n.mu.Unlock()
}

// evictSuspects evicts the peers the detector suspects, when this node is
// a healthy member that has read the control stream up to now.
func (n *Node) evictSuspects(ctx context.Context) {
	now := time.Now()
	id, inc, member := n.identity()
	if !member || !n.caughtUp(now) {
		return
	}
	for _, s := range n.det.Suspects(now) {
		// The evictor encodes NodeEvicted (sender: itself) before the
		// script decides; the script appends it only when it evicts.
		data, err := json.Marshal(NodeEvicted{
			ID: s.ID, Incarnation: strconv.FormatUint(s.Incarnation, 10), Reason: "heartbeat timeout", SilenceMs: s.Silence.Milliseconds(),
		})
		if err != nil {
			n.log.Error("NodeEvicted data", slog.Any("err", err))
			return
		}
		entry, err := n.encode(TypeNodeEvicted, id, inc, data)
		if err != nil {
			n.log.Error("evict", slog.Any("err", err))
			return
		}
		ectx, cancel := context.WithTimeout(ctx, n.cfg.Heartbeat)
		args := append([]string{
			s.ID, strconv.FormatUint(s.Incarnation, 10), strconv.FormatInt(n.cfg.EvictionTimeout.Milliseconds(), 10),
			id, strconv.FormatUint(inc, 10), strconv.FormatInt(n.cfg.StreamMaxLen, 10),
		}, entry...)
		arr, err := n.exec(ectx, scriptEvict, n.scriptKeys(), args, true).ToArray()
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				n.failed(time.Now(), "evict", err)
			}
			return
		}
		switch code, _ := arr[0].AsInt64(); code {
		case 1:
			var redisSilence int64
			if len(arr) > 2 {
				redisSilence, _ = arr[2].AsInt64()
			}
			n.log.Warn("evicted a silent peer", slog.String("peer", s.ID), slog.Uint64("incarnation", s.Incarnation),
				slog.Duration("silence", s.Silence), slog.Duration("redis_silence", time.Duration(redisSilence)*time.Millisecond))
			n.mu.Lock()
			n.st.evictions++
			n.removeLocked(s.ID, s.Incarnation)
			n.mu.Unlock()
			// The inbox lives in another slot: delete it after the script.
			dctx, cancel := context.WithTimeout(ctx, n.cfg.Heartbeat)
			if err := n.client.Do(dctx, n.client.B().Del().Key(n.keys.Inbox(s.ID)).Build()).Error(); err != nil {
				n.log.Warn("delete the evicted peer's inbox", slog.String("peer", s.ID), slog.Any("err", err))
			}
			cancel()
		case 0:
			// Already evicted by another node, or it rejoined: the
			// stream tells us which.
			n.mu.Lock()
			n.removeLocked(s.ID, s.Incarnation)
			n.mu.Unlock()
		case -1:
			// Redis saw it recently: we are the ones behind. Start its
			// silence from its last heartbeat as Redis saw it.
			silence, _ := arr[1].AsInt64()
			n.det.Seen(s.ID, s.Incarnation, time.Now().Add(-time.Duration(silence)*time.Millisecond))
		case -2:
			n.fenced("evict")
			return
		}
	}
}

func (n *Node) caughtUp(now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return now.Sub(n.st.drainedAt) <= n.cfg.EvictionTimeout
}

// Ready reports the readiness rule: a member with its current incarnation,
// caught up with the control stream, whose last heartbeat was acknowledged
// within the eviction timeout, in a cluster of at least MinimumNodes live
// members. Safe for concurrent use.
func (n *Node) Ready() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.readyLocked(time.Now())
}

func (n *Node) readyLocked(now time.Time) bool {
	t := n.cfg.EvictionTimeout
	return n.st.member &&
		now.Sub(n.st.drainedAt) <= t &&
		now.Sub(n.st.lastAck) <= t &&
		len(n.st.members) >= n.cfg.MinimumNodes
}

// Members returns the live members, this node first, then by id, with each
// group's lag read from XINFO GROUPS (-1 when Redis cannot tell). Safe for
// concurrent use.
func (n *Node) Members(ctx context.Context) []Member {
	lags := n.groupLags(ctx)
	now := time.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]Member, 0, len(n.st.members)+1)
	self := Member{IDCard: n.card, Incarnation: n.st.incarnation, Self: true, Ready: n.readyLocked(now),
		HeartbeatAge: now.Sub(n.st.lastAck), Lag: -1}
	if l, ok := lags[n.cfg.ID]; ok {
		self.Lag = l
	}
	out = append(out, self)
	for id, m := range n.st.members {
		if id == n.cfg.ID {
			continue
		}
		mb := Member{IDCard: m.card, Incarnation: m.inc, Ready: m.ready, HeartbeatAge: now.Sub(m.lastSeen), Lag: -1}
		if l, ok := lags[id]; ok {
			mb.Lag = l
		}
		out = append(out, mb)
	}
	sortMembers(out[1:])
	return out
}

func (n *Node) groupLags(ctx context.Context) map[string]int64 {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.Heartbeat)
	defer cancel()
	groups, err := consumer.Groups(ctx, n.client, n.keys.Control())
	if err != nil {
		return nil
	}
	out := make(map[string]int64, len(groups))
	for _, g := range groups {
		if g.Lag >= 0 {
			out[g.Name] = g.Lag
		}
	}
	return out
}

// Mutate runs m fenced by this node's membership and incarnation (see
// Mutation), with the control entries its body may append (append(i)
// appends entries[i-1]), encoded and signed here with this node as sender.
// It returns ErrFenced when this node is not a current member, and
// streams.ErrInvalidEnvelope (wrapped) for an entry that cannot be
// encoded. Safe for concurrent use.
func (n *Node) Mutate(ctx context.Context, m *Mutation, keys, args []string, entries ...Append) (rueidis.RedisMessage, error) {
	if !n.started.Load() {
		return rueidis.RedisMessage{}, ErrNotRunning
	}
	id, inc, member := n.identity()
	if !member {
		return rueidis.RedisMessage{}, ErrFenced
	}
	for _, k := range keys {
		if !strings.Contains(k, n.keys.Tag()) {
			return rueidis.RedisMessage{}, fmt.Errorf("%w: key %q lacks the hash tag %s", ErrCrossSlot, k, n.keys.Tag())
		}
	}
	allKeys := append(n.scriptKeys(), keys...)
	allArgs := make([]string, 0, 4+2*len(entries)+len(args))
	allArgs = append(allArgs, id, strconv.FormatUint(inc, 10), strconv.FormatInt(n.cfg.StreamMaxLen, 10), strconv.Itoa(len(entries)))
	for _, a := range entries {
		entry, err := n.encode(a.Type, id, inc, a.Data)
		if err != nil {
			return rueidis.RedisMessage{}, err
		}
		allArgs = append(allArgs, entry...)
	}
	allArgs = append(allArgs, args...)
	arr, err := n.exec(ctx, m.script, allKeys, allArgs, true).ToArray()
	if err != nil {
		return rueidis.RedisMessage{}, fmt.Errorf("node: mutation: %w", err)
	}
	if code, _ := arr[0].AsInt64(); code == 0 {
		return rueidis.RedisMessage{}, ErrFenced
	}
	if len(arr) < 2 {
		return rueidis.RedisMessage{}, nil
	}
	return arr[1], nil
}

// Reset wipes the control plane under the prefix (the control stream, the
// member list and Config.ResetKeys), keeping the sequence and incarnation
// counters. Every live node then finds itself fenced within a heartbeat,
// rejoins with a new incarnation and re-announces its live state
// (SyncRejoin). Safe for concurrent use.
func (n *Node) Reset(ctx context.Context) error {
	keys := append(n.scriptKeys(), n.cfg.ResetKeys...)
	if err := n.exec(ctx, scriptReset, keys, nil, true).Error(); err != nil {
		return fmt.Errorf("node: reset: %w", err)
	}
	n.log.Warn("cluster state reset")
	return nil
}

// Leave leaves the cluster gracefully: NodeLeft, then this node's group and
// inbox are deleted, so peers drop it at once. It may be called while Run
// is still running: Run then stops rejoining and returns within one read
// (at most 250 ms). Idempotent; the first call's result is returned again.
func (n *Node) Leave(ctx context.Context) error {
	n.leaveOnce.Do(func() { n.leaveErr = n.leave(ctx) })
	return n.leaveErr
}

func (n *Node) leave(ctx context.Context) error {
	n.mu.Lock()
	id, inc, member := n.cfg.ID, n.st.incarnation, n.st.member
	n.st.leaving = true
	n.st.member = false
	n.mu.Unlock()
	if !member {
		return nil
	}
	if err := n.leaveScript(ctx, inc); err != nil {
		return fmt.Errorf("node: leave: %w", err)
	}
	if err := n.client.Do(ctx, n.client.B().Del().Key(n.keys.Inbox(id)).Build()).Error(); err != nil {
		return fmt.Errorf("node: delete inbox: %w", err)
	}
	n.log.Info("left the cluster")
	return nil
}

// leaveScript removes this node (incarnation inc) and appends NodeLeft.
func (n *Node) leaveScript(ctx context.Context, inc uint64) error {
	entry, err := n.encode(TypeNodeLeft, n.cfg.ID, inc, []byte("{}"))
	if err != nil {
		return err
	}
	args := append([]string{n.cfg.ID, strconv.FormatUint(inc, 10), strconv.FormatInt(n.cfg.StreamMaxLen, 10)}, entry...)
	return n.exec(ctx, scriptLeave, n.scriptKeys(), args, true).Error()
}

// secretFingerprint is "unsigned" without a secret, else the hex
// HMAC-SHA256 of a fixed text under the secret: equal fingerprints mean
// equal secrets, and the secret cannot be recovered from it.
func secretFingerprint(secret []byte) string {
	if len(secret) == 0 {
		return "unsigned"
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("streamcluster control-plane secret fingerprint v1"))
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil))
}

// sleep waits d or until ctx is done; it reports whether ctx is still live.
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
