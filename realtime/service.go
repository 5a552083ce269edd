package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/streamcluster/streamcluster/koncorde"
)

// Notify actions accepted by Service.NotifyDocuments besides the
// notification actions: a write that created or replaced the document, and
// an upsert that created or updated it (Change.Created tells which).
const (
	NotifyWrite  = "write"
	NotifyUpsert = "upsert"
)

// Change is one document changed by a write.
type Change struct {
	ID string
	// Source is the document matched against the filters: the new content
	// (with _kuzzle_info), or the deleted content for a deletion.
	Source map[string]any
	// Result is the notification's "result" field.
	Result json.RawMessage
	// Created tells a creation from a replacement or update, for
	// NotifyWrite and NotifyUpsert.
	Created bool
}

// ServiceConfig configures a Service.
type ServiceConfig struct {
	NodeID string       // the "node" field of notifications
	Logger *slog.Logger // nil discards
	// WaitForMissingRooms is how long Join waits before its one retry when
	// the room is unknown to this node, which may not have seen yet a room
	// just created on another node (the seed plugin's
	// timers.waitForMissingRooms, 500 ms there). 0 (default): no retry.
	WaitForMissingRooms time.Duration
}

// Service is the realtime entry point of the API: subscriptions with their
// user notifications, document notifications of writes, publish, count and
// list. It is safe for concurrent use.
type Service struct {
	cfg    ServiceConfig
	hub    *Hub
	reg    Registry
	router Router
	out    OutState
	log    *slog.Logger
}

// NewService wires a service. router delivers the notifications (usually
// NewLocalRouter(hub) or a cluster router wrapping it).
func NewService(cfg ServiceConfig, hub *Hub, reg Registry, router Router, out OutState) *Service {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, hub: hub, reg: reg, router: router, out: out, log: log}
}

// Hub returns the service's hub.
func (s *Service) Hub() *Hub { return s.hub }

// Subscribe subscribes conn to filter f and sends the user notification
// "in" to the room. o describes the subscribe request (its volatile is kept
// for the connection's "out" user notification).
func (s *Service) Subscribe(ctx context.Context, conn Conn, f *koncorde.Filter, opts Options, o Origin) (Subscription, error) {
	sub, err := s.hub.Subscribe(ctx, conn, o.Index, o.Collection, f, opts, o.Volatile)
	if err != nil {
		return sub, err
	}
	return sub, s.userIn(ctx, sub, o, conn.ID())
}

// Join subscribes conn to an existing room; see Subscribe. An unknown room
// is looked up once more after ServiceConfig.WaitForMissingRooms before
// ErrRoomNotFound is returned.
func (s *Service) Join(ctx context.Context, conn Conn, roomID string, opts Options, o Origin) (Subscription, error) {
	if _, ok := s.reg.Room(roomID); !ok && s.cfg.WaitForMissingRooms > 0 {
		t := time.NewTimer(s.cfg.WaitForMissingRooms)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return Subscription{}, ctx.Err()
		}
	}
	if info, ok := s.reg.Room(roomID); ok {
		o.Index, o.Collection = info.Index, info.Collection
	}
	sub, err := s.hub.Join(ctx, conn, roomID, opts, o.Volatile)
	if err != nil {
		return sub, err
	}
	return sub, s.userIn(ctx, sub, o, conn.ID())
}

func (s *Service) userIn(ctx context.Context, sub Subscription, o Origin, connID string) error {
	if !sub.First {
		return nil
	}
	m, err := UserMessage(s.cfg.NodeID, o, sub.RoomID, "in", sub.Count)
	if err != nil {
		return err
	}
	m.ExceptConn = connID
	return s.router.Route(ctx, m)
}

// Unsubscribe removes the connection from the room and sends the user
// notification "out" to the remaining subscribers.
func (s *Service) Unsubscribe(ctx context.Context, connID, roomID, protocol string) error {
	left, err := s.hub.Unsubscribe(ctx, connID, roomID)
	if left.RoomID != "" {
		if uerr := s.userOut(ctx, left, protocol); uerr != nil && err == nil {
			err = uerr
		}
	}
	return err
}

// RemoveConn unsubscribes a closed connection from all its rooms.
func (s *Service) RemoveConn(ctx context.Context, connID, protocol string) error {
	lefts, err := s.hub.RemoveConn(ctx, connID)
	for _, left := range lefts {
		if uerr := s.userOut(ctx, left, protocol); uerr != nil {
			err = errors.Join(err, uerr)
		}
	}
	return err
}

func (s *Service) userOut(ctx context.Context, left Left, protocol string) error {
	o := Origin{Controller: "realtime", Action: "unsubscribe", Protocol: protocol,
		Index: left.Index, Collection: left.Collection, Volatile: left.Volatile,
		Timestamp: time.Now().UnixMilli()}
	m, err := UserMessage(s.cfg.NodeID, o, left.RoomID, "out", left.Count)
	if err != nil {
		return err
	}
	return s.router.Route(ctx, m)
}

// Count returns the number of subscribers of a room on every node; ok is
// false for an unknown room.
func (s *Service) Count(roomID string) (count int, ok bool) {
	info, ok := s.reg.Room(roomID)
	return info.Count, ok
}

// List returns {index: {collection: {roomId: count}}} for every room.
func (s *Service) List() map[string]map[string]map[string]int {
	out := make(map[string]map[string]map[string]int)
	for _, r := range s.reg.Rooms() {
		colls, ok := out[r.Index]
		if !ok {
			colls = make(map[string]map[string]int)
			out[r.Index] = colls
		}
		rooms, ok := colls[r.Collection]
		if !ok {
			rooms = make(map[string]int)
			colls[r.Collection] = rooms
		}
		rooms[r.ID] = r.Count
	}
	return out
}

// RoomExists reports whether a room is known.
func (s *Service) RoomExists(roomID string) bool {
	_, ok := s.reg.Room(roomID)
	return ok
}

// Publish notifies the rooms matching a realtime message (nothing is
// stored). id may be empty.
func (s *Service) Publish(ctx context.Context, o Origin, id string, body map[string]any, result json.RawMessage) error {
	if !s.reg.HasRooms(o.Index, o.Collection) {
		return nil
	}
	rooms := s.reg.Match(o.Index, o.Collection, body, id)
	if len(rooms) == 0 {
		return nil
	}
	m, err := DocumentMessage(s.cfg.NodeID, o, rooms, "in", ActionPublish, result)
	if err != nil {
		return err
	}
	return s.router.Route(ctx, m)
}

// NotifyDocuments sends the notifications of a write of changes with the
// given notify action (ActionCreate, ActionReplace, ActionUpdate,
// ActionDelete, NotifyWrite or NotifyUpsert), and records each document's
// matched rooms for its next "out" notification. It returns once every
// notification is routed.
func (s *Service) NotifyDocuments(ctx context.Context, o Origin, action string, changes []Change) error {
	if len(changes) == 0 || !s.reg.HasRooms(o.Index, o.Collection) {
		return nil
	}
	needPrev := action == ActionReplace || action == ActionUpdate
	if action == NotifyWrite || action == NotifyUpsert {
		for _, c := range changes {
			if !c.Created {
				needPrev = true
				break
			}
		}
	}
	ids := make([]string, len(changes))
	for i, c := range changes {
		ids[i] = c.ID
	}
	var prev [][]string
	if needPrev {
		var err error
		if prev, err = s.out.Rooms(ctx, o.Index, o.Collection, ids); err != nil {
			// Without the previous rooms only "out" notifications are
			// lost; "in" ones still go out.
			s.log.Warn("realtime: out-state unavailable", "index", o.Index, "collection", o.Collection, "err", err)
			prev = nil
		}
	}
	now := make([][]string, len(changes))
	var errs []error
	for i, c := range changes {
		var before []string
		if prev != nil {
			before = prev[i]
		}
		rooms, err := s.notifyOne(ctx, o, action, c, before)
		if err != nil {
			errs = append(errs, err)
		}
		now[i] = rooms
	}
	if err := s.out.Save(ctx, o.Index, o.Collection, ids, now); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// notifyOne notifies one change and returns the rooms the document matches
// after it.
func (s *Service) notifyOne(ctx context.Context, o Origin, action string, c Change, before []string) ([]string, error) {
	switch action {
	case NotifyWrite:
		action = ActionReplace
		if c.Created {
			action = ActionCreate
		}
	case NotifyUpsert:
		action = ActionUpdate
		if c.Created {
			action = ActionCreate
		}
	}
	rooms := s.reg.Match(o.Index, o.Collection, c.Source, c.ID)
	switch action {
	case ActionCreate:
		return rooms, s.send(ctx, o, rooms, "in", action, c.Result)
	case ActionDelete:
		return nil, s.send(ctx, o, rooms, "out", action, c.Result)
	case ActionReplace, ActionUpdate:
		err := s.send(ctx, o, rooms, "in", action, c.Result)
		if gone := difference(before, rooms); len(gone) > 0 {
			err = errors.Join(err, s.send(ctx, o, gone, "out", action, c.Result))
		}
		return rooms, err
	default:
		return nil, fmt.Errorf("realtime: unknown notify action %q", action)
	}
}

func (s *Service) send(ctx context.Context, o Origin, rooms []string, scope, action string, result json.RawMessage) error {
	if len(rooms) == 0 {
		return nil
	}
	m, err := DocumentMessage(s.cfg.NodeID, o, rooms, scope, action, result)
	if err != nil {
		return err
	}
	return s.router.Route(ctx, m)
}

// difference returns the elements of a not in b.
func difference(a, b []string) []string {
	var out []string
	for _, x := range a {
		found := false
		for _, y := range b {
			if x == y {
				found = true
				break
			}
		}
		if !found {
			out = append(out, x)
		}
	}
	return out
}
