package api

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"github.com/streamcluster/streamcluster/koncorde"
	"github.com/streamcluster/streamcluster/realtime"
	"github.com/streamcluster/streamcluster/storage"
)

func nowMillis() int64 { return time.Now().UnixMilli() }

// controllers returns the action table: controller → action → handler.
func (s *Server) controllers() map[string]map[string]handler {
	return map[string]map[string]handler{
		"server": {
			"info":        s.serverInfo,
			"now":         s.serverNow,
			"healthCheck": s.serverHealthCheck,
			"publicApi":   s.serverPublicAPI,
		},
		"auth": {
			"checkToken": s.authCheckToken,
		},
		"realtime": {
			"subscribe":   s.realtimeSubscribe,
			"join":        s.realtimeJoin,
			"unsubscribe": s.realtimeUnsubscribe,
			"count":       s.realtimeCount,
			"list":        s.realtimeList,
			"publish":     s.realtimePublish,
			"validate":    s.documentValidate,
		},
		"document": {
			"create":           s.documentCreate,
			"createOrReplace":  s.documentCreateOrReplace,
			"replace":          s.documentReplace,
			"update":           s.documentUpdate,
			"upsert":           s.documentUpsert,
			"delete":           s.documentDelete,
			"get":              s.documentGet,
			"exists":           s.documentExists,
			"mGet":             s.documentMGet,
			"mCreate":          s.documentMCreate,
			"mCreateOrReplace": s.documentMCreateOrReplace,
			"mReplace":         s.documentMReplace,
			"mUpdate":          s.documentMUpdate,
			"mUpsert":          s.documentMUpsert,
			"mDelete":          s.documentMDelete,
			"search":           s.documentSearch,
			"scroll":           s.documentScroll,
			"count":            s.documentCount,
			"deleteByQuery":    s.documentDeleteByQuery,
			"updateByQuery":    s.documentUpdateByQuery,
			"validate":         s.documentValidate,
		},
		"index": {
			"create":  s.indexCreate,
			"delete":  s.indexDelete,
			"exists":  s.indexExists,
			"list":    s.indexList,
			"mDelete": s.indexMDelete,
		},
		"collection": {
			"create":     s.collectionCreate,
			"update":     s.collectionUpdate,
			"delete":     s.collectionDelete,
			"exists":     s.collectionExists,
			"list":       s.collectionList,
			"truncate":   s.collectionTruncate,
			"refresh":    s.collectionRefresh,
			"getMapping": s.collectionGetMapping,
		},
	}
}

// ---- server ----

func (s *Server) serverInfo(_ context.Context, _ *Request) (any, error) {
	return map[string]any{
		"serverInfo": map[string]any{
			"kuzzle": map[string]any{
				"version": s.cfg.Version,
				"nodeId":  s.cfg.NodeID,
				"api":     map[string]any{"routes": s.publicAPI()},
				"plugins": map[string]any{},
			},
			"services": map[string]any{},
		},
	}, nil
}

func (s *Server) serverNow(_ context.Context, _ *Request) (any, error) {
	return map[string]int64{"now": nowMillis()}, nil
}

func (s *Server) serverHealthCheck(_ context.Context, _ *Request) (any, error) {
	return map[string]any{
		"status": "green",
		"services": map[string]string{
			"internalCache": "green", "memoryStorage": "green", "storageEngine": "green",
		},
	}, nil
}

func (s *Server) serverPublicAPI(_ context.Context, _ *Request) (any, error) {
	return s.publicAPI(), nil
}

type httpRoute struct {
	Verb string `json:"verb"`
	URL  string `json:"url"`
}

type publicAction struct {
	Controller string      `json:"controller"`
	Action     string      `json:"action"`
	HTTP       []httpRoute `json:"http,omitempty"`
}

// publicAPI is server:publicApi's result: every action with its HTTP
// routes, as the SDK's Http protocol reads it.
func (s *Server) publicAPI() map[string]map[string]*publicAction {
	out := make(map[string]map[string]*publicAction)
	for c, actions := range s.actions {
		out[c] = make(map[string]*publicAction)
		for a := range actions {
			out[c][a] = &publicAction{Controller: c, Action: a}
		}
	}
	for _, rt := range httpRoutes {
		if rt.controller == "" {
			continue
		}
		if pa, ok := out[rt.controller][rt.action]; ok {
			pa.HTTP = append(pa.HTTP, httpRoute{Verb: rt.verb, URL: rt.path})
		}
	}
	return out
}

// ---- auth ----

func (s *Server) authCheckToken(_ context.Context, r *Request) (any, error) {
	body, err := r.optBodyObject()
	if err != nil {
		return nil, err
	}
	tok, _ := bodyField(body, "token")
	if t, ok := tok.(string); ok && t != "" {
		// This node issues no token yet, so no token is valid.
		return map[string]any{"valid": false, "state": kerr("security.token.invalid").Message}, nil
	}
	return map[string]any{"valid": true, "kuid": Anonymous.KUID, "expiresAt": nil}, nil
}

// ---- realtime ----

func (r *Request) origin() realtime.Origin {
	return realtime.Origin{
		RequestID: r.RequestID, Controller: r.Controller, Action: r.Action,
		Protocol: r.Protocol, Index: r.Index(), Collection: r.Collection(),
		Volatile: r.Volatile, Timestamp: r.Timestamp,
	}
}

func realtimeError(err error) error {
	switch {
	case errors.Is(err, realtime.ErrInvalidScope):
		return kerr("core.realtime.invalid_scope")
	case errors.Is(err, realtime.ErrInvalidUsers):
		return kerr("core.realtime.invalid_users")
	case errors.Is(err, realtime.ErrTooManyRooms):
		return kerr("core.realtime.too_many_rooms")
	}
	return err
}

func (s *Server) realtimeConn(r *Request) (*wsConn, error) {
	if r.conn == nil {
		return nil, kerr("api.assert.unsupported_protocol", r.Protocol, r.Controller+":"+r.Action)
	}
	return r.conn, nil
}

func (r *Request) realtimeOptions() (realtime.Options, error) {
	scope, err := r.optString("scope", "all")
	if err != nil {
		return realtime.Options{}, err
	}
	users, err := r.optString("users", "none")
	if err != nil {
		return realtime.Options{}, err
	}
	return realtime.Options{Scope: scope, Users: users}, nil
}

func (s *Server) realtimeSubscribe(ctx context.Context, r *Request) (any, error) {
	conn, err := s.realtimeConn(r)
	if err != nil {
		return nil, err
	}
	a := r.args()
	index, coll := a.indexAndCollection()
	if a.err != nil {
		return nil, a.err
	}
	if r.Body == nil {
		return nil, kerr("api.assert.body_required")
	}
	opts, err := r.realtimeOptions()
	if err != nil {
		return nil, err
	}
	if _, err := opts.Validate(); err != nil {
		return nil, realtimeError(err)
	}
	f, err := koncorde.Normalize(koncorde.DefaultConfig(), index, coll, r.Body)
	if err != nil {
		return nil, kerrCause(err, "api.assert.koncorde_dsl_error", err.Error())
	}
	sub, err := s.rt.Subscribe(ctx, conn, f, opts, r.origin())
	if err != nil {
		return nil, realtimeError(err)
	}
	return map[string]string{"roomId": sub.RoomID, "channel": sub.Channel}, nil
}

func (r *Request) bodyRoomID() (string, error) {
	body, err := r.bodyObject()
	if err != nil {
		return "", err
	}
	v, ok := bodyField(body, "roomId")
	if !ok {
		return "", kerr("api.assert.missing_argument", "body.roomId")
	}
	id, ok := v.(string)
	if !ok {
		return "", kerr("api.assert.invalid_type", "body.roomId", "string")
	}
	return id, nil
}

func (s *Server) realtimeJoin(ctx context.Context, r *Request) (any, error) {
	conn, err := s.realtimeConn(r)
	if err != nil {
		return nil, err
	}
	roomID, err := r.bodyRoomID()
	if err != nil {
		return nil, err
	}
	opts, err := r.realtimeOptions()
	if err != nil {
		return nil, err
	}
	sub, err := s.rt.Join(ctx, conn, roomID, opts, r.origin())
	if errors.Is(err, realtime.ErrRoomNotFound) {
		return nil, kerr("core.realtime.room_not_found", roomID)
	}
	if err != nil {
		return nil, realtimeError(err)
	}
	return map[string]string{"roomId": sub.RoomID, "channel": sub.Channel}, nil
}

func (s *Server) realtimeUnsubscribe(ctx context.Context, r *Request) (any, error) {
	conn, err := s.realtimeConn(r)
	if err != nil {
		return nil, err
	}
	roomID, err := r.bodyRoomID()
	if err != nil {
		return nil, err
	}
	err = s.rt.Unsubscribe(ctx, conn.ID(), roomID, r.Protocol)
	if errors.Is(err, realtime.ErrNotSubscribed) {
		return nil, kerr("core.realtime.not_subscribed", conn.ID(), roomID)
	}
	if err != nil {
		return nil, err
	}
	return map[string]string{"roomId": roomID}, nil
}

func (s *Server) realtimeCount(_ context.Context, r *Request) (any, error) {
	roomID, err := r.bodyRoomID()
	if err != nil {
		return nil, err
	}
	n, ok := s.rt.Count(roomID)
	if !ok {
		return nil, kerr("core.realtime.room_not_found", roomID)
	}
	return map[string]int{"count": n}, nil
}

func (s *Server) realtimeList(_ context.Context, _ *Request) (any, error) {
	return s.rt.List(), nil
}

func (s *Server) realtimePublish(ctx context.Context, r *Request) (any, error) {
	a := r.args()
	a.indexAndCollection()
	body := a.body()
	if a.err != nil {
		return nil, a.err
	}
	body["_kuzzle_info"] = map[string]any{"author": r.User.KUID, "createdAt": r.Timestamp}
	src, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	id := r.ID()
	result := struct {
		ID     string          `json:"_id,omitempty"`
		Source json.RawMessage `json:"_source"`
	}{id, src}
	res, err := json.Marshal(result)
	if err != nil {
		return nil, err
	}
	if err := s.rt.Publish(ctx, r.origin(), id, body, res); err != nil {
		return nil, err
	}
	return map[string]bool{"published": true}, nil
}

// ---- index ----

func (s *Server) indexCreate(ctx context.Context, r *Request) (any, error) {
	index, err := r.requireString("index")
	if err != nil {
		return nil, err
	}
	if err := s.store.CreateIndex(ctx, index); err != nil {
		return nil, storageError(err)
	}
	return map[string]any{"acknowledged": true, "shards_acknowledged": true}, nil
}

func (s *Server) indexDelete(ctx context.Context, r *Request) (any, error) {
	index, err := r.requireString("index")
	if err != nil {
		return nil, err
	}
	if err := s.store.DeleteIndex(ctx, index); err != nil {
		return nil, storageError(err)
	}
	return map[string]any{"acknowledged": true}, nil
}

func (s *Server) indexExists(ctx context.Context, r *Request) (any, error) {
	index, err := r.requireString("index")
	if err != nil {
		return nil, err
	}
	ok, err := s.store.IndexExists(ctx, index)
	return ok, storageError(err)
}

func (s *Server) indexList(ctx context.Context, _ *Request) (any, error) {
	names, err := s.store.ListIndexes(ctx)
	if err != nil {
		return nil, storageError(err)
	}
	if names == nil {
		names = []string{}
	}
	return map[string]any{"indexes": names}, nil
}

func (s *Server) indexMDelete(ctx context.Context, r *Request) (any, error) {
	body, err := r.bodyObject()
	if err != nil {
		return nil, err
	}
	names, err := stringList(body, "indexes")
	if err != nil {
		return nil, err
	}
	deleted, err := s.store.MDeleteIndexes(ctx, names)
	if err != nil {
		return nil, storageError(err)
	}
	if deleted == nil {
		deleted = []string{}
	}
	return map[string]any{"deleted": deleted}, nil
}

func stringList(body map[string]any, name string) ([]string, error) {
	v, ok := bodyField(body, name)
	if !ok {
		return nil, kerr("api.assert.missing_argument", "body."+name)
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, kerr("api.assert.invalid_type", "body."+name, "array")
	}
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		s, ok := x.(string)
		if !ok {
			return nil, kerr("api.assert.invalid_type", "body."+name, "string[]")
		}
		out = append(out, s)
	}
	return out, nil
}

// ---- collection ----

// mappingsBody returns the mappings of a collection:create/update body:
// either {mappings: {...}, settings} or the mappings themselves.
func (r *Request) mappingsBody() (json.RawMessage, error) {
	if r.Body == nil {
		return nil, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &fields); err != nil {
		return nil, kerr("api.assert.invalid_type", "body", "object")
	}
	if m, ok := fields["mappings"]; ok {
		return m, nil
	}
	if _, ok := fields["settings"]; ok {
		return nil, nil
	}
	return r.Body, nil
}

// onCollection runs op on the request's index and collection and answers
// result when it succeeds.
func onCollection(ctx context.Context, r *Request, op func(ctx context.Context, index, coll string) error, result any) (any, error) {
	a := r.args()
	index, coll := a.indexAndCollection()
	if a.err != nil {
		return nil, a.err
	}
	if err := op(ctx, index, coll); err != nil {
		return nil, storageError(err)
	}
	return result, nil
}

// onMappings is onCollection for the actions that also read mappings from
// the body.
func onMappings(ctx context.Context, r *Request, op func(ctx context.Context, index, coll string, m json.RawMessage) error, result any) (any, error) {
	a := r.args()
	index, coll := a.indexAndCollection()
	m := read(a, r.mappingsBody)
	if a.err != nil {
		return nil, a.err
	}
	if err := op(ctx, index, coll, m); err != nil {
		return nil, storageError(err)
	}
	return result, nil
}

func (s *Server) collectionCreate(ctx context.Context, r *Request) (any, error) {
	return onMappings(ctx, r, s.store.CreateCollection, map[string]bool{"acknowledged": true})
}

func (s *Server) collectionUpdate(ctx context.Context, r *Request) (any, error) {
	return onMappings(ctx, r, s.store.UpdateCollection, nil)
}

func (s *Server) collectionDelete(ctx context.Context, r *Request) (any, error) {
	return onCollection(ctx, r, s.store.DeleteCollection, nil)
}

func (s *Server) collectionExists(ctx context.Context, r *Request) (any, error) {
	a := r.args()
	index, coll := a.indexAndCollection()
	if a.err != nil {
		return nil, a.err
	}
	ok, err := s.store.CollectionExists(ctx, index, coll)
	return ok, storageError(err)
}

type collectionEntry struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

func (s *Server) collectionList(ctx context.Context, r *Request) (any, error) {
	index, err := r.requireString("index")
	if err != nil {
		return nil, err
	}
	typ, err := r.optString("type", "all")
	if err != nil {
		return nil, err
	}
	seen := map[string]string{}
	if typ == "all" || typ == "stored" {
		names, err := s.store.ListCollections(ctx, index)
		if err != nil {
			return nil, storageError(err)
		}
		for _, n := range names {
			seen[n] = "stored"
		}
	}
	if typ == "all" || typ == "realtime" {
		for n := range s.rt.List()[index] {
			if _, ok := seen[n]; !ok {
				seen[n] = "realtime"
			}
		}
	}
	out := make([]collectionEntry, 0, len(seen))
	for n, t := range seen {
		out = append(out, collectionEntry{Name: n, Type: t})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	from, err := r.intArg("from", 0)
	if err != nil {
		return nil, err
	}
	size, err := r.intArg("size", 0)
	if err != nil {
		return nil, err
	}
	if from > 0 || size > 0 {
		if from > len(out) {
			from = len(out)
		}
		end := len(out)
		if size > 0 && from+size < end {
			end = from + size
		}
		out = out[from:end]
	}
	return map[string]any{"collections": out, "type": typ}, nil
}

func (s *Server) collectionTruncate(ctx context.Context, r *Request) (any, error) {
	return onCollection(ctx, r, s.store.TruncateCollection, map[string]bool{"acknowledged": true})
}

func (s *Server) collectionRefresh(ctx context.Context, r *Request) (any, error) {
	return onCollection(ctx, r, s.store.RefreshCollection, nil)
}

func (s *Server) collectionGetMapping(ctx context.Context, r *Request) (any, error) {
	a := r.args()
	index, coll := a.indexAndCollection()
	if a.err != nil {
		return nil, a.err
	}
	m, err := s.store.GetMapping(ctx, index, coll)
	if err != nil {
		return nil, storageError(err)
	}
	return m, nil
}

// storageError maps a store error to the Kuzzle error it carries.
func storageError(err error) error {
	if err == nil {
		return nil
	}
	if se, ok := errors.AsType[*storage.Error](err); ok {
		return kerrCause(err, se.ID, se.Props...)
	}
	return kerrCause(err, "services.storage.unexpected_error", err.Error())
}
