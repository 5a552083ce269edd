package api

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/streamcluster/streamcluster/realtime"
	"github.com/streamcluster/streamcluster/storage"
)

// docResult is a document in a response or notification.
type docResult struct {
	ID            string         `json:"_id"`
	Version       int64          `json:"_version,omitempty"`
	Source        map[string]any `json:"_source,omitempty"`
	Created       *bool          `json:"created,omitempty"`
	UpdatedFields []string       `json:"_updatedFields,omitempty"`
}

func resultOf(d storage.Document) docResult {
	return docResult{ID: d.ID, Version: d.Version, Source: d.Source}
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		// Documents come from JSON; they always marshal.
		return json.RawMessage("null")
	}
	return b
}

func boolPtr(b bool) *bool { return &b }

// writeOpts reads refresh (only "wait_for" waits).
func (r *Request) refresh() (string, error) {
	v, err := r.optString("refresh", "false")
	if err != nil {
		return "", err
	}
	if v == storage.RefreshWaitFor {
		return storage.RefreshWaitFor, nil
	}
	if v != "false" && v != "" {
		return "", kerr("api.assert.invalid_argument", "refresh", `"wait_for" or "false"`)
	}
	return storage.RefreshNone, nil
}

func (r *Request) retryOnConflict() (int, error) {
	n, err := r.intArg("retryOnConflict", 0)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, kerr("api.assert.invalid_argument", "retryOnConflict", "a positive integer")
	}
	return n, nil
}

func (r *Request) requireID() (string, error) {
	return r.requireString("_id")
}

// notify sends the notifications of a write unless it is silent.
func (s *Server) notify(ctx context.Context, r *Request, action string, changes []realtime.Change) error {
	silent, err := r.boolArg("silent")
	if err != nil || silent || len(changes) == 0 {
		return nil
	}
	if err := s.rt.NotifyDocuments(ctx, r.origin(), action, changes); err != nil {
		// The write happened; a notification failure must not turn it
		// into an error for the writer.
		s.log.Warn("api: notify", "controller", r.Controller, "action", r.Action, "err", err)
	}
	return nil
}

func createInfo(kuid string, now int64) map[string]any {
	return map[string]any{"author": kuid, "createdAt": now, "updatedAt": nil, "updater": nil}
}

func writeInfo(kuid string, now int64) map[string]any {
	return map[string]any{"author": kuid, "createdAt": now, "updatedAt": now, "updater": kuid}
}

func updateInfo(kuid string, now int64) map[string]any {
	return map[string]any{"updatedAt": now, "updater": kuid}
}

// withInfo returns a shallow copy of src with _kuzzle_info set to info.
func withInfo(src map[string]any, info map[string]any) map[string]any {
	out := make(map[string]any, len(src)+1)
	for k, v := range src {
		out[k] = v
	}
	out["_kuzzle_info"] = info
	return out
}

// updatedFields lists the paths changed by a partial update, without
// _kuzzle_info (Kuzzle's extractFields).
func updatedFields(changes map[string]any) []string {
	var out []string
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if prefix == "" && k == "_kuzzle_info" {
				continue
			}
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
				walk(p, sub)
				continue
			}
			out = append(out, p)
		}
	}
	walk("", changes)
	sort.Strings(out)
	if out == nil {
		out = []string{}
	}
	return out
}

func (s *Server) documentCreate(ctx context.Context, r *Request) (any, error) {
	index, coll, err := r.indexAndCollection()
	if err != nil {
		return nil, err
	}
	body, err := r.bodyObject()
	if err != nil {
		return nil, err
	}
	refresh, err := r.refresh()
	if err != nil {
		return nil, err
	}
	src := withInfo(body, createInfo(r.User.KUID, nowMillis()))
	doc, err := s.store.Create(ctx, index, coll, r.ID(), src, storage.WriteOptions{Refresh: refresh})
	if err != nil {
		return nil, storageError(err)
	}
	res := resultOf(doc)
	_ = s.notify(ctx, r, realtime.ActionCreate, []realtime.Change{{ID: doc.ID, Source: doc.Source, Result: mustJSON(res), Created: true}})
	return res, nil
}

func (s *Server) documentCreateOrReplace(ctx context.Context, r *Request) (any, error) {
	index, coll, err := r.indexAndCollection()
	if err != nil {
		return nil, err
	}
	id, err := r.requireID()
	if err != nil {
		return nil, err
	}
	body, err := r.bodyObject()
	if err != nil {
		return nil, err
	}
	refresh, err := r.refresh()
	if err != nil {
		return nil, err
	}
	src := withInfo(body, writeInfo(r.User.KUID, nowMillis()))
	doc, created, err := s.store.CreateOrReplace(ctx, index, coll, id, src, storage.WriteOptions{Refresh: refresh})
	if err != nil {
		return nil, storageError(err)
	}
	res := resultOf(doc)
	res.Created = boolPtr(created)
	notif := resultOf(doc)
	_ = s.notify(ctx, r, realtime.NotifyWrite, []realtime.Change{{ID: doc.ID, Source: doc.Source, Result: mustJSON(notif), Created: created}})
	return res, nil
}

func (s *Server) documentReplace(ctx context.Context, r *Request) (any, error) {
	index, coll, err := r.indexAndCollection()
	if err != nil {
		return nil, err
	}
	id, err := r.requireID()
	if err != nil {
		return nil, err
	}
	body, err := r.bodyObject()
	if err != nil {
		return nil, err
	}
	refresh, err := r.refresh()
	if err != nil {
		return nil, err
	}
	src := withInfo(body, writeInfo(r.User.KUID, nowMillis()))
	doc, err := s.store.Replace(ctx, index, coll, id, src, storage.WriteOptions{Refresh: refresh})
	if err != nil {
		return nil, storageError(err)
	}
	notif := docResult{ID: doc.ID, Source: doc.Source}
	_ = s.notify(ctx, r, realtime.ActionReplace, []realtime.Change{{ID: doc.ID, Source: doc.Source, Result: mustJSON(notif)}})
	return resultOf(doc), nil
}

func (s *Server) documentUpdate(ctx context.Context, r *Request) (any, error) {
	index, coll, err := r.indexAndCollection()
	if err != nil {
		return nil, err
	}
	id, err := r.requireID()
	if err != nil {
		return nil, err
	}
	body, err := r.bodyObject()
	if err != nil {
		return nil, err
	}
	refresh, err := r.refresh()
	if err != nil {
		return nil, err
	}
	retry, err := r.retryOnConflict()
	if err != nil {
		return nil, err
	}
	wantSource, err := r.boolArg("source")
	if err != nil {
		return nil, err
	}
	delete(body, "_kuzzle_info")
	changes := withInfo(body, updateInfo(r.User.KUID, nowMillis()))
	doc, err := s.store.Update(ctx, index, coll, id, changes, storage.UpdateOptions{Refresh: refresh, RetryOnConflict: retry})
	if err != nil {
		return nil, storageError(err)
	}
	notif := docResult{ID: doc.ID, Source: doc.Source, UpdatedFields: updatedFields(body)}
	_ = s.notify(ctx, r, realtime.ActionUpdate, []realtime.Change{{ID: doc.ID, Source: doc.Source, Result: mustJSON(notif)}})
	if wantSource {
		return resultOf(doc), nil
	}
	partial := withInfo(body, nil)
	partial["_kuzzle_info"] = doc.Source["_kuzzle_info"]
	return docResult{ID: doc.ID, Version: doc.Version, Source: partial}, nil
}

func (s *Server) documentUpsert(ctx context.Context, r *Request) (any, error) {
	index, coll, err := r.indexAndCollection()
	if err != nil {
		return nil, err
	}
	id, err := r.requireID()
	if err != nil {
		return nil, err
	}
	body, err := r.bodyObject()
	if err != nil {
		return nil, err
	}
	changes, err := objectIn(body, "changes", true)
	if err != nil {
		return nil, err
	}
	defaults, err := objectIn(body, "default", false)
	if err != nil {
		return nil, err
	}
	refresh, err := r.refresh()
	if err != nil {
		return nil, err
	}
	retry, err := r.retryOnConflict()
	if err != nil {
		return nil, err
	}
	wantSource, err := r.boolArg("source")
	if err != nil {
		return nil, err
	}
	now := nowMillis()
	delete(changes, "_kuzzle_info")
	ch := withInfo(changes, updateInfo(r.User.KUID, now))
	def := withInfo(defaults, map[string]any{"author": r.User.KUID, "createdAt": now})
	doc, created, err := s.store.Upsert(ctx, index, coll, id, ch, def, storage.UpdateOptions{Refresh: refresh, RetryOnConflict: retry})
	if err != nil {
		return nil, storageError(err)
	}
	notif := docResult{ID: doc.ID, Source: doc.Source}
	if created {
		notif.Version = doc.Version
	} else {
		notif.UpdatedFields = updatedFields(changes)
	}
	_ = s.notify(ctx, r, realtime.NotifyUpsert, []realtime.Change{{ID: doc.ID, Source: doc.Source, Result: mustJSON(notif), Created: created}})
	if wantSource {
		res := resultOf(doc)
		res.Created = boolPtr(created)
		return res, nil
	}
	return docResult{ID: doc.ID, Version: doc.Version, Created: boolPtr(created)}, nil
}

func objectIn(body map[string]any, name string, required bool) (map[string]any, error) {
	v, ok := bodyField(body, name)
	if !ok {
		if required {
			return nil, kerr("api.assert.missing_argument", "body."+name)
		}
		return map[string]any{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, kerr("api.assert.invalid_type", "body."+name, "object")
	}
	return m, nil
}

func (s *Server) documentDelete(ctx context.Context, r *Request) (any, error) {
	index, coll, err := r.indexAndCollection()
	if err != nil {
		return nil, err
	}
	id, err := r.requireID()
	if err != nil {
		return nil, err
	}
	refresh, err := r.refresh()
	if err != nil {
		return nil, err
	}
	wantSource, err := r.boolArg("source")
	if err != nil {
		return nil, err
	}
	doc, err := s.store.Delete(ctx, index, coll, id, storage.WriteOptions{Refresh: refresh})
	if err != nil {
		return nil, storageError(err)
	}
	notif := docResult{ID: doc.ID, Source: doc.Source}
	_ = s.notify(ctx, r, realtime.ActionDelete, []realtime.Change{{ID: doc.ID, Source: doc.Source, Result: mustJSON(notif)}})
	if wantSource {
		return resultOf(doc), nil
	}
	return map[string]string{"_id": doc.ID}, nil
}

func (s *Server) documentGet(ctx context.Context, r *Request) (any, error) {
	index, coll, err := r.indexAndCollection()
	if err != nil {
		return nil, err
	}
	id, err := r.requireID()
	if err != nil {
		return nil, err
	}
	doc, err := s.store.Get(ctx, index, coll, id)
	if err != nil {
		return nil, storageError(err)
	}
	return resultOf(doc), nil
}

func (s *Server) documentExists(ctx context.Context, r *Request) (any, error) {
	index, coll, err := r.indexAndCollection()
	if err != nil {
		return nil, err
	}
	id, err := r.requireID()
	if err != nil {
		return nil, err
	}
	ok, err := s.store.Exists(ctx, index, coll, id)
	return ok, storageError(err)
}

// ids reads body.ids, or the "ids" argument (a list or a comma-separated
// string over HTTP).
func (r *Request) ids() ([]string, error) {
	body, err := r.optBodyObject()
	if err != nil {
		return nil, err
	}
	if _, ok := bodyField(body, "ids"); ok {
		return stringList(body, "ids")
	}
	if !r.has("ids") {
		return nil, kerr("api.assert.missing_argument", "ids")
	}
	var list []string
	if err := json.Unmarshal(r.Args["ids"], &list); err == nil {
		return list, nil
	}
	s, err := r.optString("ids", "")
	if err != nil {
		return nil, kerr("api.assert.invalid_type", "ids", "array")
	}
	return strings.Split(s, ","), nil
}

func (s *Server) documentMGet(ctx context.Context, r *Request) (any, error) {
	index, coll, err := r.indexAndCollection()
	if err != nil {
		return nil, err
	}
	ids, err := r.ids()
	if err != nil {
		return nil, err
	}
	found, missing, err := s.store.MGet(ctx, index, coll, ids)
	if err != nil {
		return nil, storageError(err)
	}
	succ := make([]docResult, 0, len(found))
	for _, d := range found {
		succ = append(succ, resultOf(d))
	}
	if missing == nil {
		missing = []string{}
	}
	return map[string]any{"successes": succ, "errors": missing}, nil
}

// bulkDoc is one entry of body.documents.
type bulkDoc struct {
	ID      string
	Body    map[string]any
	Changes map[string]any
	Default map[string]any
}

func (r *Request) bulkDocuments(upsert bool) ([]bulkDoc, error) {
	body, err := r.bodyObject()
	if err != nil {
		return nil, err
	}
	v, ok := bodyField(body, "documents")
	if !ok {
		return nil, kerr("api.assert.missing_argument", "body.documents")
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, kerr("api.assert.invalid_type", "body.documents", "array")
	}
	out := make([]bulkDoc, 0, len(arr))
	for i, x := range arr {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, kerr("api.assert.invalid_type", "body.documents", "object[]")
		}
		if _, ok := m["_source"]; ok {
			return nil, kerr("api.assert.unexpected_argument", "documents["+strconv.Itoa(i)+"]._source", "documents["+strconv.Itoa(i)+"].body")
		}
		var d bulkDoc
		if id, ok := m["_id"].(string); ok {
			d.ID = id
		}
		if upsert {
			d.Changes, _ = m["changes"].(map[string]any)
			d.Default, _ = m["default"].(map[string]any)
			if d.Changes == nil {
				d.Changes = map[string]any{}
			}
			if d.Default == nil {
				d.Default = map[string]any{}
			}
			delete(d.Changes, "_kuzzle_info")
		} else {
			d.Body, _ = m["body"].(map[string]any)
			if d.Body == nil {
				d.Body = map[string]any{}
			}
			delete(d.Body, "_kuzzle_info")
		}
		out = append(out, d)
	}
	return out, nil
}

type bulkErrorJSON struct {
	Document map[string]any `json:"document"`
	Status   int            `json:"status"`
	Reason   string         `json:"reason"`
}

// bulkResponse renders {successes, errors} and the notification changes.
func bulkResponse(res storage.BulkResult, updated map[string][]string, withCreated bool) (map[string]any, []realtime.Change) {
	succ := make([]docResult, 0, len(res.Successes))
	changes := make([]realtime.Change, 0, len(res.Successes))
	for _, s := range res.Successes {
		d := resultOf(s.Document)
		if withCreated {
			d.Created = boolPtr(s.Created)
		}
		succ = append(succ, d)
		n := docResult{ID: s.ID, Version: s.Version, Source: s.Source}
		if f, ok := updated[s.ID]; ok && !s.Created {
			n = docResult{ID: s.ID, Source: s.Source, UpdatedFields: f}
		}
		changes = append(changes, realtime.Change{ID: s.ID, Source: s.Source, Result: mustJSON(n), Created: s.Created})
	}
	errs := make([]bulkErrorJSON, 0, len(res.Errors))
	for _, e := range res.Errors {
		ae := asAPIError(storageError(e.Err))
		doc := map[string]any{"_id": e.ID}
		if e.Source != nil {
			doc["body"] = e.Source
		}
		errs = append(errs, bulkErrorJSON{Document: doc, Status: ae.Status, Reason: ae.Message})
	}
	return map[string]any{"successes": succ, "errors": errs}, changes
}

func (s *Server) bulkWrite(ctx context.Context, r *Request, action string) (any, error) {
	index, coll, err := r.indexAndCollection()
	if err != nil {
		return nil, err
	}
	upsert := r.Action == "mUpsert"
	docs, err := r.bulkDocuments(upsert)
	if err != nil {
		return nil, err
	}
	refresh, err := r.refresh()
	if err != nil {
		return nil, err
	}
	strict, err := r.boolArg("strict")
	if err != nil {
		return nil, err
	}
	retry := 0
	if r.Action == "mUpdate" || upsert {
		if retry, err = r.retryOnConflict(); err != nil {
			return nil, err
		}
	}
	if len(docs) == 0 {
		return map[string]any{"successes": []any{}, "errors": []any{}}, nil
	}
	now := nowMillis()
	kuid := r.User.KUID
	wopts := storage.WriteOptions{Refresh: refresh}
	uopts := storage.UpdateOptions{Refresh: refresh, RetryOnConflict: retry}
	items := make([]storage.BulkItem, len(docs))
	updated := map[string][]string{}
	var res storage.BulkResult
	switch r.Action {
	case "mCreate":
		for i, d := range docs {
			items[i] = storage.BulkItem{ID: d.ID, Source: withInfo(d.Body, createInfo(kuid, now))}
		}
		res, err = s.store.MCreate(ctx, index, coll, items, wopts)
	case "mCreateOrReplace":
		for i, d := range docs {
			items[i] = storage.BulkItem{ID: d.ID, Source: withInfo(d.Body, writeInfo(kuid, now))}
		}
		res, err = s.store.MCreateOrReplace(ctx, index, coll, items, wopts)
	case "mReplace":
		for i, d := range docs {
			items[i] = storage.BulkItem{ID: d.ID, Source: withInfo(d.Body, writeInfo(kuid, now))}
		}
		res, err = s.store.MReplace(ctx, index, coll, items, wopts)
	case "mUpdate":
		for i, d := range docs {
			items[i] = storage.BulkItem{ID: d.ID, Source: withInfo(d.Body, updateInfo(kuid, now))}
			updated[d.ID] = updatedFields(d.Body)
		}
		res, err = s.store.MUpdate(ctx, index, coll, items, uopts)
	case "mUpsert":
		ups := make([]storage.UpsertItem, len(docs))
		for i, d := range docs {
			ups[i] = storage.UpsertItem{ID: d.ID, Changes: withInfo(d.Changes, updateInfo(kuid, now)),
				Defaults: withInfo(d.Default, map[string]any{"author": kuid, "createdAt": now})}
			updated[d.ID] = updatedFields(d.Changes)
		}
		res, err = s.store.MUpsert(ctx, index, coll, ups, uopts)
	default:
		return nil, kerr("api.process.action_not_found", r.Controller, r.Action)
	}
	if err != nil {
		return nil, storageError(err)
	}
	if strict && len(res.Errors) > 0 {
		return nil, kerr("api.process.incomplete_multiple_request", r.Action)
	}
	out, changes := bulkResponse(res, updated, r.Action == "mCreateOrReplace" || upsert)
	_ = s.notify(ctx, r, action, changes)
	return out, nil
}

func (s *Server) documentMCreate(ctx context.Context, r *Request) (any, error) {
	return s.bulkWrite(ctx, r, realtime.ActionCreate)
}

func (s *Server) documentMCreateOrReplace(ctx context.Context, r *Request) (any, error) {
	return s.bulkWrite(ctx, r, realtime.NotifyWrite)
}

func (s *Server) documentMReplace(ctx context.Context, r *Request) (any, error) {
	return s.bulkWrite(ctx, r, realtime.ActionReplace)
}

func (s *Server) documentMUpdate(ctx context.Context, r *Request) (any, error) {
	return s.bulkWrite(ctx, r, realtime.ActionUpdate)
}

func (s *Server) documentMUpsert(ctx context.Context, r *Request) (any, error) {
	return s.bulkWrite(ctx, r, realtime.NotifyUpsert)
}

func (s *Server) documentMDelete(ctx context.Context, r *Request) (any, error) {
	index, coll, err := r.indexAndCollection()
	if err != nil {
		return nil, err
	}
	body, err := r.bodyObject()
	if err != nil {
		return nil, err
	}
	ids, err := stringList(body, "ids")
	if err != nil {
		return nil, err
	}
	refresh, err := r.refresh()
	if err != nil {
		return nil, err
	}
	strict, err := r.boolArg("strict")
	if err != nil {
		return nil, err
	}
	res, err := s.store.MDelete(ctx, index, coll, ids, storage.WriteOptions{Refresh: refresh})
	if err != nil {
		return nil, storageError(err)
	}
	if strict && len(res.Errors) > 0 {
		return nil, kerr("api.process.incomplete_multiple_request", "delete")
	}
	succ := make([]string, 0, len(res.Successes))
	changes := make([]realtime.Change, 0, len(res.Successes))
	for _, d := range res.Successes {
		succ = append(succ, d.ID)
		changes = append(changes, realtime.Change{ID: d.ID, Source: d.Source, Result: mustJSON(docResult{ID: d.ID, Source: d.Source})})
	}
	errs := make([]map[string]any, 0, len(res.Errors))
	for _, e := range res.Errors {
		ae := asAPIError(storageError(e.Err))
		errs = append(errs, map[string]any{"_id": e.ID, "reason": ae.Message})
	}
	_ = s.notify(ctx, r, realtime.ActionDelete, changes)
	return map[string]any{"successes": succ, "errors": errs}, nil
}

// query reads the search query from the body ({query, sort, aggregations})
// and the lang argument.
func (r *Request) query() (storage.Query, map[string]json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if r.Body != nil {
		if err := json.Unmarshal(r.Body, &fields); err != nil {
			return storage.Query{}, nil, kerr("api.assert.invalid_type", "body", "object")
		}
	}
	lang, err := r.optString("lang", storage.LangElasticsearch)
	if err != nil {
		return storage.Query{}, nil, err
	}
	if lang != storage.LangElasticsearch && lang != storage.LangKoncorde {
		return storage.Query{}, nil, kerr("api.assert.invalid_argument", "lang", `"elasticsearch" or "koncorde"`)
	}
	q := storage.Query{Lang: lang}
	if v, ok := fields["query"]; ok && !isNull(v) {
		q.Body = v
	}
	return q, fields, nil
}

func (r *Request) duration(name string) (time.Duration, error) {
	s, err := r.optString(name, "")
	if err != nil || s == "" {
		return 0, err
	}
	d, err := parseESDuration(s)
	if err != nil {
		return 0, kerr("api.assert.invalid_argument", name, "a duration such as 30s or 1m")
	}
	return d, nil
}

// parseESDuration parses Elasticsearch time units: d, h, m, s, ms.
func parseESDuration(s string) (time.Duration, error) {
	if strings.HasSuffix(s, "d") {
		d, err := time.ParseDuration(strings.TrimSuffix(s, "d") + "h")
		return d * 24, err
	}
	return time.ParseDuration(s)
}

type hitJSON struct {
	ID         string         `json:"_id"`
	Index      string         `json:"index"`
	Collection string         `json:"collection"`
	Score      float64        `json:"_score"`
	Source     map[string]any `json:"_source"`
	Version    int64          `json:"_version,omitempty"`
}

func searchResponse(res storage.SearchResult, seen int) map[string]any {
	hits := make([]hitJSON, 0, len(res.Hits))
	for _, h := range res.Hits {
		hits = append(hits, hitJSON{ID: h.ID, Index: h.Index, Collection: h.Collection, Score: h.Score, Source: h.Source, Version: h.Version})
	}
	out := map[string]any{"hits": hits, "total": res.Total, "aggregations": map[string]any{}}
	remaining := res.Total - seen - len(res.Hits)
	if remaining < 0 {
		remaining = 0
	}
	out["remaining"] = remaining
	if res.ScrollID != "" {
		out["scrollId"] = res.ScrollID
	}
	return out
}

func (s *Server) documentSearch(ctx context.Context, r *Request) (any, error) {
	index, coll, err := r.indexAndCollection()
	if err != nil {
		return nil, err
	}
	q, fields, err := r.query()
	if err != nil {
		return nil, err
	}
	from, err := r.intArg("from", 0)
	if err != nil {
		return nil, err
	}
	size, err := r.intArg("size", storage.DefaultSearchSize)
	if err != nil {
		return nil, err
	}
	scroll, err := r.duration("scroll")
	if err != nil {
		return nil, err
	}
	req := storage.SearchRequest{Query: q, From: from, Size: size, Scroll: scroll}
	if v, ok := fields["sort"]; ok && !isNull(v) {
		req.Sort = v
	} else if r.has("sort") { // GET: ?sort=field
		req.Sort = r.Args["sort"]
	}
	res, err := s.store.Search(ctx, index, coll, req)
	if err != nil {
		return nil, storageError(err)
	}
	return searchResponse(res, from), nil
}

func (s *Server) documentScroll(ctx context.Context, r *Request) (any, error) {
	id, err := r.requireString("scrollId")
	if err != nil {
		return nil, err
	}
	ttl, err := r.duration("scroll")
	if err != nil {
		return nil, err
	}
	res, err := s.store.Scroll(ctx, id, ttl)
	if err != nil {
		return nil, storageError(err)
	}
	return searchResponse(res, 0), nil
}

func (s *Server) documentCount(ctx context.Context, r *Request) (any, error) {
	index, coll, err := r.indexAndCollection()
	if err != nil {
		return nil, err
	}
	q, _, err := r.query()
	if err != nil {
		return nil, err
	}
	n, err := s.store.Count(ctx, index, coll, q)
	if err != nil {
		return nil, storageError(err)
	}
	return map[string]int{"count": n}, nil
}

func (s *Server) documentDeleteByQuery(ctx context.Context, r *Request) (any, error) {
	index, coll, err := r.indexAndCollection()
	if err != nil {
		return nil, err
	}
	q, _, err := r.query()
	if err != nil {
		return nil, err
	}
	if q.Body == nil {
		return nil, kerr("api.assert.missing_argument", "body.query")
	}
	refresh, err := r.refresh()
	if err != nil {
		return nil, err
	}
	wantSource, err := r.boolArg("source")
	if err != nil {
		return nil, err
	}
	docs, err := s.store.DeleteByQuery(ctx, index, coll, q, storage.WriteOptions{Refresh: refresh})
	if err != nil {
		return nil, storageError(err)
	}
	changes := make([]realtime.Change, 0, len(docs))
	out := make([]docResult, 0, len(docs))
	ids := make([]string, 0, len(docs))
	for _, d := range docs {
		changes = append(changes, realtime.Change{ID: d.ID, Source: d.Source, Result: mustJSON(docResult{ID: d.ID, Source: d.Source})})
		res := docResult{ID: d.ID}
		if wantSource {
			res.Source = d.Source
		}
		out = append(out, res)
		ids = append(ids, d.ID)
	}
	_ = s.notify(ctx, r, realtime.ActionDelete, changes)
	return map[string]any{"documents": out, "ids": ids}, nil
}

func (s *Server) documentUpdateByQuery(ctx context.Context, r *Request) (any, error) {
	index, coll, err := r.indexAndCollection()
	if err != nil {
		return nil, err
	}
	q, _, err := r.query()
	if err != nil {
		return nil, err
	}
	body, err := r.bodyObject()
	if err != nil {
		return nil, err
	}
	if q.Body == nil {
		return nil, kerr("api.assert.missing_argument", "body.query")
	}
	changes, err := objectIn(body, "changes", true)
	if err != nil {
		return nil, err
	}
	refresh, err := r.refresh()
	if err != nil {
		return nil, err
	}
	wantSource, err := r.boolArg("source")
	if err != nil {
		return nil, err
	}
	delete(changes, "_kuzzle_info")
	ch := withInfo(changes, updateInfo(r.User.KUID, nowMillis()))
	res, err := s.store.UpdateByQuery(ctx, index, coll, q, ch, storage.WriteOptions{Refresh: refresh})
	if err != nil {
		return nil, storageError(err)
	}
	fields := updatedFields(changes)
	notes := make([]realtime.Change, 0, len(res.Successes))
	succ := make([]docResult, 0, len(res.Successes))
	for _, d := range res.Successes {
		notes = append(notes, realtime.Change{ID: d.ID, Source: d.Source, Result: mustJSON(docResult{ID: d.ID, Source: d.Source, UpdatedFields: fields})})
		out := docResult{ID: d.ID, Version: d.Version}
		if wantSource {
			out.Source = d.Source
		}
		succ = append(succ, out)
	}
	errs := make([]bulkErrorJSON, 0, len(res.Errors))
	for _, e := range res.Errors {
		ae := asAPIError(storageError(e.Err))
		errs = append(errs, bulkErrorJSON{Document: map[string]any{"_id": e.ID}, Status: ae.Status, Reason: ae.Message})
	}
	_ = s.notify(ctx, r, realtime.ActionUpdate, notes)
	return map[string]any{"successes": succ, "errors": errs}, nil
}

func (s *Server) documentValidate(_ context.Context, r *Request) (any, error) {
	if _, _, err := r.indexAndCollection(); err != nil {
		return nil, err
	}
	if r.Body == nil {
		return nil, kerr("api.assert.body_required")
	}
	// No validation specifications exist on this server: every document is valid.
	return map[string]any{"errorMessages": map[string]any{}, "valid": true}, nil
}
