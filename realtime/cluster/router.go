package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/rueidis"

	"github.com/streamcluster/streamcluster/consumer"
	"github.com/streamcluster/streamcluster/node"
	"github.com/streamcluster/streamcluster/realtime"
	"github.com/streamcluster/streamcluster/streams"
)

// TypeNotify is the envelope type of a notification in an inbox.
const TypeNotify = "Notify"

// DefaultInboxMaxLen is RouterConfig.InboxMaxLen's default: the hard cap
// (XADD MAXLEN ~) of an inbox whose reader stopped.
const DefaultInboxMaxLen = 100_000

// RouterConfig configures a Router.
type RouterConfig struct {
	// InboxMaxLen caps every inbox this node appends to (MAXLEN ~,
	// default DefaultInboxMaxLen).
	InboxMaxLen int64
	// ReadCount is the largest batch read from this node's inbox at once
	// (default consumer.DefaultCount).
	ReadCount int64
	// Timeout bounds one pipelined append (default DefaultTimeout).
	Timeout time.Duration
	// Registerer receives the router's Prometheus collectors (default: none).
	Registerer prometheus.Registerer
	// Logger receives the router's logs (default: discarded).
	Logger *slog.Logger
}

func (c RouterConfig) withDefaults() RouterConfig {
	if c.InboxMaxLen == 0 {
		c.InboxMaxLen = DefaultInboxMaxLen
	}
	if c.ReadCount == 0 {
		c.ReadCount = consumer.DefaultCount
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first invalid field, after defaults.
func (c RouterConfig) Validate() error {
	c = c.withDefaults()
	switch {
	case c.InboxMaxLen < 0:
		return fmt.Errorf("%w: inbox max length %d is negative", ErrInvalidConfig, c.InboxMaxLen)
	case c.ReadCount < 0:
		return fmt.Errorf("%w: read count %d is negative", ErrInvalidConfig, c.ReadCount)
	case c.Timeout < 0:
		return fmt.Errorf("%w: timeout %v is negative", ErrInvalidConfig, c.Timeout)
	}
	return nil
}

// RouterStats are the router's counters since NewRouter. All are monotonic.
type RouterStats struct {
	Sent       uint64 // inbox entries appended
	SendErrors uint64 // inbox entries that failed to append
	Gone       uint64 // inbox entries not appended because the target's inbox is gone (it left or was evicted)
	Received   uint64 // notifications read from this node's inbox
	Gaps       uint64 // sequence numbers a sender skipped when they were expected
	Late       uint64 // notifications that arrived after a later one of the same sender (lost = Gaps - Late)
	Rejected   uint64 // inbox entries of another type or that do not decode
}

// wireMessage is a realtime.Message in an inbox entry's payload.
type wireMessage struct {
	Kind    realtime.Kind   `json:"k"`
	Rooms   []string        `json:"r"`
	Scope   string          `json:"s"`
	Except  string          `json:"x,omitempty"`
	Payload json.RawMessage `json:"p"`
}

// Router is the cluster realtime.Router: local rooms go to the hub, other
// nodes' rooms to their inboxes, and this node's inbox to the hub (Run).
type Router struct {
	hub    *realtime.Hub
	reg    *Registry
	node   *node.Node
	self   string
	keys   streams.Keys
	client rueidis.Client
	codec  *streams.Codec
	cfg    RouterConfig
	log    *slog.Logger

	reader *consumer.Reader
	epoch  uint64 // the sender incarnation of this process's entries

	seqMu sync.Mutex
	seqs  map[string]uint64 // target node → last sequence sent

	// Owned by the inbox goroutine (Run).
	recv map[string]*senderState

	sent, sendErrs, gone, received, gaps, late, rejected atomic.Uint64
}

type senderState struct {
	epoch uint64
	max   uint64
}

var _ realtime.Router = (*Router)(nil)

// NewRouter returns the router of node n (not yet running or running),
// delivering to hub and reading the counts of reg. client is the node's
// Redis client; envelopes are signed with the node's secret.
func NewRouter(client rueidis.Client, n *node.Node, reg *Registry, hub *realtime.Hub, cfg RouterConfig) (*Router, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	ncfg := n.Config()
	codec := streams.NewCodec(ncfg.Secret)
	r := &Router{
		hub:    hub,
		reg:    reg,
		node:   n,
		self:   n.ID(),
		keys:   n.Keys(),
		client: client,
		codec:  codec,
		cfg:    cfg,
		log:    cfg.Logger.With(slog.String("node", n.ID())),
		epoch:  uint64(time.Now().UnixNano()),
		seqs:   make(map[string]uint64),
		recv:   make(map[string]*senderState),
	}
	reader, err := consumer.New(client, codec, consumer.Config{
		Stream: r.keys.Inbox(r.self), Group: r.self, Consumer: r.self,
		Count: cfg.ReadCount, NoAck: true, Block: time.Second,
	}, r.handleInbox, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("cluster: inbox reader: %w", err)
	}
	r.reader = reader
	if cfg.Registerer != nil {
		err := errors.Join(
			cfg.Registerer.Register(newRouterCollector(r)),
			cfg.Registerer.Register(node.ConsumerCollector("inbox", reader.Stats)),
		)
		if err != nil {
			return nil, fmt.Errorf("cluster: register metrics: %w", err)
		}
	}
	return r, nil
}

// Run reads this node's inbox and delivers what it receives to the hub,
// until ctx ends. It returns nil then.
func (r *Router) Run(ctx context.Context) error {
	return r.reader.Run(ctx)
}

// Stats returns the router's counters. Safe for concurrent use.
func (r *Router) Stats() RouterStats {
	return RouterStats{
		Sent: r.sent.Load(), SendErrors: r.sendErrs.Load(), Gone: r.gone.Load(), Received: r.received.Load(),
		Gaps: r.gaps.Load(), Late: r.late.Load(), Rejected: r.rejected.Load(),
	}
}

// InboxStats returns the inbox reader's counters.
func (r *Router) InboxStats() consumer.Stats { return r.reader.Stats() }

// Route implements realtime.Router: m goes to this node's subscribers at
// once, and to every other node with subscribers in m.Rooms as one inbox
// entry per node, appended in one pipelined round trip (rueidis DoMulti:
// one round trip per shard; streams.Appender.AppendBatch does the same but
// has no NOMKSTREAM). It returns when the appends are acknowledged by
// Redis; the error joins the failed ones.
func (r *Router) Route(ctx context.Context, m realtime.Message) error {
	r.hub.Deliver(m)
	targets := r.reg.targets(m.Rooms)
	if len(targets) == 0 {
		return nil
	}
	cmds := make(rueidis.Commands, 0, len(targets))
	streamsOf := make([]string, 0, len(targets))
	now := time.Now().UnixMilli()
	r.seqMu.Lock()
	for target, rooms := range targets {
		payload, err := json.Marshal(wireMessage{Kind: m.Kind, Rooms: rooms, Scope: m.Scope, Except: m.ExceptConn, Payload: m.Payload})
		if err != nil {
			r.seqMu.Unlock()
			return fmt.Errorf("cluster: encode notification: %w", err)
		}
		r.seqs[target]++
		f, err := r.codec.Encode(streams.Envelope{
			Type: TypeNotify, Sender: r.self, Incarnation: r.epoch, Seq: r.seqs[target], Time: now, Payload: payload,
		})
		if err != nil {
			r.seqMu.Unlock()
			return fmt.Errorf("cluster: encode notification: %w", err)
		}
		stream := r.keys.Inbox(target)
		cmds = append(cmds, r.xadd(stream, f))
		streamsOf = append(streamsOf, stream)
	}
	r.seqMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	var errs []error
	for i, res := range r.client.DoMulti(ctx, cmds...) {
		err := res.Error()
		switch {
		case rueidis.IsRedisNil(err):
			// NOMKSTREAM: the inbox is gone, its node left or was
			// evicted and its subscribers with it.
			r.gone.Add(1)
		case err != nil:
			r.sendErrs.Add(1)
			errs = append(errs, fmt.Errorf("cluster: append to %s: %w", streamsOf[i], err))
			r.log.Warn("notification not delivered to a node's inbox", slog.String("stream", streamsOf[i]), slog.Any("err", err))
		default:
			r.sent.Add(1)
		}
	}
	return errors.Join(errs...)
}

// xadd appends to an inbox that exists (NOMKSTREAM: a departed node's
// deleted inbox is not re-created by a late notification), trimming it to
// InboxMaxLen (MAXLEN ~).
func (r *Router) xadd(stream string, f streams.Fields) rueidis.Completed {
	c := r.client.B().Xadd().Key(stream).Nomkstream().Maxlen().Almost().Threshold(strconv.FormatInt(r.cfg.InboxMaxLen, 10)).
		Id("*").FieldValue().FieldValue(streams.FieldEnvelope, f.Blob)
	if f.Sig != "" {
		c = c.FieldValue(streams.FieldSignature, f.Sig)
	}
	return c.Build()
}

// handleInbox delivers a batch of this node's inbox to the hub, counting
// per-sender sequence gaps.
func (r *Router) handleInbox(_ context.Context, batch []consumer.Message) error {
	for _, msg := range batch {
		env := msg.Envelope
		var wm wireMessage
		if env.Type != TypeNotify || json.Unmarshal(env.Payload, &wm) != nil || len(wm.Payload) == 0 || wm.Payload[len(wm.Payload)-1] != '}' {
			r.rejected.Add(1)
			r.log.Warn("inbox entry rejected", slog.String("entry", msg.ID), slog.String("type", env.Type), slog.String("sender", env.Sender))
			continue
		}
		r.received.Add(1)
		r.track(env)
		r.hub.Deliver(realtime.Message{Kind: wm.Kind, Rooms: wm.Rooms, Scope: wm.Scope, ExceptConn: wm.Except, Payload: wm.Payload})
	}
	return nil
}

// track counts the sequence numbers a sender skipped (Gaps) and those that
// arrived after a later one (Late): concurrent routes of one sender may
// append out of order, so the notifications really lost are Gaps - Late.
func (r *Router) track(env streams.Envelope) {
	st, ok := r.recv[env.Sender]
	if !ok || st.epoch != env.Incarnation {
		r.recv[env.Sender] = &senderState{epoch: env.Incarnation, max: env.Seq}
		if ok || env.Seq > 1 {
			// A new process of the sender, or our first entry of it is
			// not its first to us: we cannot tell a gap from a restart of
			// ours; only a known sender's skipped numbers are counted.
			r.log.Debug("new inbox sender epoch", slog.String("sender", env.Sender), slog.Uint64("seq", env.Seq))
		}
		return
	}
	switch {
	case env.Seq == st.max+1:
		st.max = env.Seq
	case env.Seq > st.max+1:
		missing := env.Seq - st.max - 1
		r.gaps.Add(missing)
		r.log.Warn("inbox sequence gap: notifications lost or late", slog.String("sender", env.Sender),
			slog.Uint64("expected", st.max+1), slog.Uint64("got", env.Seq))
		st.max = env.Seq
	default:
		// A late arrival: it was counted in Gaps when skipped.
		r.late.Add(1)
	}
}

// routerCollector exports RouterStats.
type routerCollector struct {
	r     *Router
	descs map[string]*prometheus.Desc
}

func newRouterCollector(r *Router) *routerCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("streamcluster_realtime_"+name, help, nil, nil)
	}
	return &routerCollector{r: r, descs: map[string]*prometheus.Desc{
		"sent":     d("inbox_sent_total", "Notification entries appended to other nodes' inboxes."),
		"errors":   d("inbox_send_errors_total", "Notification entries that failed to append to another node's inbox."),
		"gone":     d("inbox_gone_total", "Notification entries not appended because the target node's inbox is gone."),
		"received": d("inbox_received_total", "Notifications read from this node's inbox."),
		"gaps":     d("inbox_gaps_total", "Per-sender sequence numbers skipped in this node's inbox; lost = gaps - late."),
		"late":     d("inbox_late_total", "Notifications that arrived after a later one of the same sender."),
		"rejected": d("inbox_rejected_total", "Inbox entries of an unknown type or payload."),
	}}
}

func (c *routerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *routerCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.r.Stats()
	for k, v := range map[string]uint64{"sent": s.Sent, "errors": s.SendErrors, "gone": s.Gone, "received": s.Received, "gaps": s.Gaps, "late": s.Late, "rejected": s.Rejected} {
		ch <- prometheus.MustNewConstMetric(c.descs[k], prometheus.CounterValue, float64(v))
	}
}
