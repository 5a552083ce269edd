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

// refresh reads refresh (only "wait_for" waits).
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

func (a *args) refresh() string { return read(a, a.r.refresh) }

func (a *args) retryOnConflict() int { return read(a, a.r.retryOnConflict) }

// object reads body[name], which must be an object ({} when absent and not
// required).
func (a *args) object(body map[string]any, name string, required bool) map[string]any {
	return read(a, func() (map[string]any, error) { return objectIn(body, name, required) })
}

// notify sends the notifications of a write unless it is silent. The write
// has happened, so a notification failure must not turn it into an error
// for the writer: notify logs and counts it (Server.NotifyFailures) itself,
// and callers have nothing to handle.
func (s *Server) notify(ctx context.Context, r *Request, action string, changes []realtime.Change) {
	silent, err := r.boolArg("silent")
	if err != nil || silent || len(changes) == 0 {
		return
	}
	if err := s.rt.NotifyDocuments(ctx, r.origin(), action, changes); err != nil {
		s.notifyFailures.Add(1)
		s.log.Warn("api: notify", "controller", r.Controller, "action", r.Action, "err", err)
	}
}

// notifyDoc notifies the write of one document; result is the
// notification's result.
func (s *Server) notifyDoc(ctx context.Context, r *Request, action string, d storage.Document, result docResult, created bool) {
	s.notify(ctx, r, action, []realtime.Change{change(d, result, created)})
}

// change is the notification change of a written document.
func change(d storage.Document, result docResult, created bool) realtime.Change {
	return realtime.Change{ID: d.ID, Source: d.Source, Result: mustJSON(result), Created: created}
}

// sourceOf is a document's id and source, without its version.
func sourceOf(d storage.Document) docResult { return docResult{ID: d.ID, Source: d.Source} }

// infoFunc builds a _kuzzle_info for a write by kuid at now.
type infoFunc func(kuid string, now int64) map[string]any

func createInfo(kuid string, now int64) map[string]any {
	return map[string]any{"author": kuid, "createdAt": now, "updatedAt": nil, "updater": nil}
}

func writeInfo(kuid string, now int64) map[string]any {
	return map[string]any{"author": kuid, "createdAt": now, "updatedAt": now, "updater": kuid}
}

func updateInfo(kuid string, now int64) map[string]any {
	return map[string]any{"updatedAt": now, "updater": kuid}
}

// defaultsInfo is the _kuzzle_info of an upsert's defaults.
func defaultsInfo(kuid string, now int64) map[string]any {
	return map[string]any{"author": kuid, "createdAt": now}
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

// putArgs are the arguments of a whole-document write (create,
// createOrReplace, replace): the body, with its _kuzzle_info set, becomes
// the document.
type putArgs struct {
	index, coll, id string
	src             map[string]any
	opts            storage.WriteOptions
}

// putArgs reads index, collection, _id (required when requireID, otherwise
// optional), body and refresh, and sets the body's _kuzzle_info with info.
func (r *Request) putArgs(requireID bool, info infoFunc) (putArgs, error) {
	a := r.args()
	var p putArgs
	p.index, p.coll = a.indexAndCollection()
	if requireID {
		p.id = a.id()
	} else {
		p.id = r.ID()
	}
	body := a.body()
	p.opts.Refresh = a.refresh()
	if a.err != nil {
		return putArgs{}, a.err
	}
	p.src = withInfo(body, info(r.User.KUID, nowMillis()))
	return p, nil
}

func (s *Server) documentCreate(ctx context.Context, r *Request) (any, error) {
	p, err := r.putArgs(false, createInfo)
	if err != nil {
		return nil, err
	}
	doc, err := s.store.Create(ctx, p.index, p.coll, p.id, p.src, p.opts)
	if err != nil {
		return nil, storageError(err)
	}
	res := resultOf(doc)
	s.notifyDoc(ctx, r, realtime.ActionCreate, doc, res, true)
	return res, nil
}

func (s *Server) documentCreateOrReplace(ctx context.Context, r *Request) (any, error) {
	p, err := r.putArgs(true, writeInfo)
	if err != nil {
		return nil, err
	}
	doc, created, err := s.store.CreateOrReplace(ctx, p.index, p.coll, p.id, p.src, p.opts)
	if err != nil {
		return nil, storageError(err)
	}
	s.notifyDoc(ctx, r, realtime.NotifyWrite, doc, resultOf(doc), created)
	res := resultOf(doc)
	res.Created = boolPtr(created)
	return res, nil
}

func (s *Server) documentReplace(ctx context.Context, r *Request) (any, error) {
	p, err := r.putArgs(true, writeInfo)
	if err != nil {
		return nil, err
	}
	doc, err := s.store.Replace(ctx, p.index, p.coll, p.id, p.src, p.opts)
	if err != nil {
		return nil, storageError(err)
	}
	s.notifyDoc(ctx, r, realtime.ActionReplace, doc, sourceOf(doc), false)
	return resultOf(doc), nil
}

func (s *Server) documentUpdate(ctx context.Context, r *Request) (any, error) {
	a := r.args()
	index, coll := a.indexAndCollection()
	id := a.id()
	body := a.body()
	refresh := a.refresh()
	retry := a.retryOnConflict()
	wantSource := a.boolean("source")
	if a.err != nil {
		return nil, a.err
	}
	delete(body, "_kuzzle_info")
	changes := withInfo(body, updateInfo(r.User.KUID, nowMillis()))
	doc, err := s.store.Update(ctx, index, coll, id, changes, storage.UpdateOptions{Refresh: refresh, RetryOnConflict: retry})
	if err != nil {
		return nil, storageError(err)
	}
	notif := sourceOf(doc)
	notif.UpdatedFields = updatedFields(body)
	s.notifyDoc(ctx, r, realtime.ActionUpdate, doc, notif, false)
	if wantSource {
		return resultOf(doc), nil
	}
	partial := withInfo(body, nil)
	partial["_kuzzle_info"] = doc.Source["_kuzzle_info"]
	return docResult{ID: doc.ID, Version: doc.Version, Source: partial}, nil
}

func (s *Server) documentUpsert(ctx context.Context, r *Request) (any, error) {
	a := r.args()
	index, coll := a.indexAndCollection()
	id := a.id()
	body := a.body()
	changes := a.object(body, "changes", true)
	defaults := a.object(body, "default", false)
	refresh := a.refresh()
	retry := a.retryOnConflict()
	wantSource := a.boolean("source")
	if a.err != nil {
		return nil, a.err
	}
	now := nowMillis()
	delete(changes, "_kuzzle_info")
	ch := withInfo(changes, updateInfo(r.User.KUID, now))
	def := withInfo(defaults, defaultsInfo(r.User.KUID, now))
	doc, created, err := s.store.Upsert(ctx, index, coll, id, ch, def, storage.UpdateOptions{Refresh: refresh, RetryOnConflict: retry})
	if err != nil {
		return nil, storageError(err)
	}
	notif := sourceOf(doc)
	if created {
		notif.Version = doc.Version
	} else {
		notif.UpdatedFields = updatedFields(changes)
	}
	s.notifyDoc(ctx, r, realtime.NotifyUpsert, doc, notif, created)
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
	a := r.args()
	index, coll := a.indexAndCollection()
	id := a.id()
	refresh := a.refresh()
	wantSource := a.boolean("source")
	if a.err != nil {
		return nil, a.err
	}
	doc, err := s.store.Delete(ctx, index, coll, id, storage.WriteOptions{Refresh: refresh})
	if err != nil {
		return nil, storageError(err)
	}
	s.notifyDoc(ctx, r, realtime.ActionDelete, doc, sourceOf(doc), false)
	if wantSource {
		return resultOf(doc), nil
	}
	return map[string]string{"_id": doc.ID}, nil
}

func (s *Server) documentGet(ctx context.Context, r *Request) (any, error) {
	a := r.args()
	index, coll := a.indexAndCollection()
	id := a.id()
	if a.err != nil {
		return nil, a.err
	}
	doc, err := s.store.Get(ctx, index, coll, id)
	if err != nil {
		return nil, storageError(err)
	}
	return resultOf(doc), nil
}

func (s *Server) documentExists(ctx context.Context, r *Request) (any, error) {
	a := r.args()
	index, coll := a.indexAndCollection()
	id := a.id()
	if a.err != nil {
		return nil, a.err
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
	a := r.args()
	index, coll := a.indexAndCollection()
	ids := read(a, r.ids)
	if a.err != nil {
		return nil, a.err
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
	ID string
	// Body is the entry's body, or its changes for mUpsert, without
	// _kuzzle_info.
	Body    map[string]any
	Default map[string]any // mUpsert only
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
		d.ID, _ = m["_id"].(string)
		if upsert {
			d.Body = objectOrEmpty(m["changes"])
			d.Default = objectOrEmpty(m["default"])
		} else {
			d.Body = objectOrEmpty(m["body"])
		}
		delete(d.Body, "_kuzzle_info")
		out = append(out, d)
	}
	return out, nil
}

// objectOrEmpty returns v if it is an object, otherwise an empty one.
func objectOrEmpty(v any) map[string]any {
	if m, ok := v.(map[string]any); ok && m != nil {
		return m
	}
	return map[string]any{}
}

type bulkErrorJSON struct {
	Document map[string]any `json:"document"`
	Status   int            `json:"status"`
	Reason   string         `json:"reason"`
}

// bulkErrors renders the errors of an m* write; withBody adds each input
// document's body when the store returned it.
func bulkErrors(errs []storage.BulkError, withBody bool) []bulkErrorJSON {
	out := make([]bulkErrorJSON, 0, len(errs))
	for _, e := range errs {
		ae := asAPIError(storageError(e.Err))
		doc := map[string]any{"_id": e.ID}
		if withBody && e.Source != nil {
			doc["body"] = e.Source
		}
		out = append(out, bulkErrorJSON{Document: doc, Status: ae.Status, Reason: ae.Message})
	}
	return out
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
		n := resultOf(s.Document)
		if f, ok := updated[s.ID]; ok && !s.Created {
			n = docResult{ID: s.ID, Source: s.Source, UpdatedFields: f}
		}
		changes = append(changes, change(s.Document, n, s.Created))
	}
	return map[string]any{"successes": succ, "errors": bulkErrors(res.Errors, true)}, changes
}

// bulkWrite is what an m* write hands to the store.
type bulkWrite struct {
	index, coll string
	docs        []bulkDoc
	kuid        string
	now         int64
	opts        storage.UpdateOptions // RetryOnConflict is 0 unless the write updates
}

// items returns the documents with their _kuzzle_info set by info.
func (b bulkWrite) items(info infoFunc) []storage.BulkItem {
	items := make([]storage.BulkItem, len(b.docs))
	for i, d := range b.docs {
		items[i] = storage.BulkItem{ID: d.ID, Source: withInfo(d.Body, info(b.kuid, b.now))}
	}
	return items
}

func (b bulkWrite) writeOptions() storage.WriteOptions {
	return storage.WriteOptions{Refresh: b.opts.Refresh}
}

// bulkKind is what sets one m* write apart from the others.
type bulkKind struct {
	notify  string // action of the notifications (NotifyWrite and NotifyUpsert pick per document)
	upsert  bool   // documents are {_id, changes, default} rather than {_id, body}
	update  bool   // reads retryOnConflict; updated documents' notifications list _updatedFields
	created bool   // each success says whether it created its document
	// write sends the documents to the store.
	write func(b bulkWrite) (storage.BulkResult, error)
}

// bulk runs an m* write: arguments, store call, strict check, response and
// notifications.
func (s *Server) bulk(ctx context.Context, r *Request, k bulkKind) (any, error) {
	a := r.args()
	index, coll := a.indexAndCollection()
	docs := read(a, func() ([]bulkDoc, error) { return r.bulkDocuments(k.upsert) })
	refresh := a.refresh()
	strict := a.boolean("strict")
	retry := 0
	if k.update {
		retry = a.retryOnConflict()
	}
	if a.err != nil {
		return nil, a.err
	}
	if len(docs) == 0 {
		return map[string]any{"successes": []any{}, "errors": []any{}}, nil
	}
	updated := map[string][]string{}
	if k.update {
		for _, d := range docs {
			updated[d.ID] = updatedFields(d.Body)
		}
	}
	res, err := k.write(bulkWrite{index: index, coll: coll, docs: docs, kuid: r.User.KUID, now: nowMillis(),
		opts: storage.UpdateOptions{Refresh: refresh, RetryOnConflict: retry}})
	if err != nil {
		return nil, storageError(err)
	}
	if strict && len(res.Errors) > 0 {
		return nil, kerr("api.process.incomplete_multiple_request", r.Action)
	}
	out, changes := bulkResponse(res, updated, k.created)
	s.notify(ctx, r, k.notify, changes)
	return out, nil
}

func (s *Server) documentMCreate(ctx context.Context, r *Request) (any, error) {
	return s.bulk(ctx, r, bulkKind{notify: realtime.ActionCreate,
		write: func(b bulkWrite) (storage.BulkResult, error) {
			return s.store.MCreate(ctx, b.index, b.coll, b.items(createInfo), b.writeOptions())
		}})
}

func (s *Server) documentMCreateOrReplace(ctx context.Context, r *Request) (any, error) {
	return s.bulk(ctx, r, bulkKind{notify: realtime.NotifyWrite, created: true,
		write: func(b bulkWrite) (storage.BulkResult, error) {
			return s.store.MCreateOrReplace(ctx, b.index, b.coll, b.items(writeInfo), b.writeOptions())
		}})
}

func (s *Server) documentMReplace(ctx context.Context, r *Request) (any, error) {
	return s.bulk(ctx, r, bulkKind{notify: realtime.ActionReplace,
		write: func(b bulkWrite) (storage.BulkResult, error) {
			return s.store.MReplace(ctx, b.index, b.coll, b.items(writeInfo), b.writeOptions())
		}})
}

func (s *Server) documentMUpdate(ctx context.Context, r *Request) (any, error) {
	return s.bulk(ctx, r, bulkKind{notify: realtime.ActionUpdate, update: true,
		write: func(b bulkWrite) (storage.BulkResult, error) {
			return s.store.MUpdate(ctx, b.index, b.coll, b.items(updateInfo), b.opts)
		}})
}

func (s *Server) documentMUpsert(ctx context.Context, r *Request) (any, error) {
	return s.bulk(ctx, r, bulkKind{notify: realtime.NotifyUpsert, upsert: true, update: true, created: true,
		write: func(b bulkWrite) (storage.BulkResult, error) {
			items := make([]storage.UpsertItem, len(b.docs))
			for i, d := range b.docs {
				items[i] = storage.UpsertItem{ID: d.ID, Changes: withInfo(d.Body, updateInfo(b.kuid, b.now)),
					Defaults: withInfo(d.Default, defaultsInfo(b.kuid, b.now))}
			}
			return s.store.MUpsert(ctx, b.index, b.coll, items, b.opts)
		}})
}

func (s *Server) documentMDelete(ctx context.Context, r *Request) (any, error) {
	a := r.args()
	index, coll := a.indexAndCollection()
	body := a.body()
	ids := read(a, func() ([]string, error) { return stringList(body, "ids") })
	refresh := a.refresh()
	strict := a.boolean("strict")
	if a.err != nil {
		return nil, a.err
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
		changes = append(changes, change(d.Document, sourceOf(d.Document), false))
	}
	errs := make([]map[string]any, 0, len(res.Errors))
	for _, e := range res.Errors {
		ae := asAPIError(storageError(e.Err))
		errs = append(errs, map[string]any{"_id": e.ID, "reason": ae.Message})
	}
	s.notify(ctx, r, realtime.ActionDelete, changes)
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

// query reads the search query and the body's fields.
func (a *args) query() (storage.Query, map[string]json.RawMessage) {
	if a.err != nil {
		return storage.Query{}, nil
	}
	q, fields, err := a.r.query()
	a.err = err
	return q, fields
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

func (a *args) duration(name string) time.Duration {
	return read(a, func() (time.Duration, error) { return a.r.duration(name) })
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
	a := r.args()
	index, coll := a.indexAndCollection()
	q, fields := a.query()
	from := a.integer("from", 0)
	size := a.integer("size", storage.DefaultSearchSize)
	scroll := a.duration("scroll")
	if a.err != nil {
		return nil, a.err
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
	a := r.args()
	id := a.str("scrollId")
	ttl := a.duration("scroll")
	if a.err != nil {
		return nil, a.err
	}
	res, err := s.store.Scroll(ctx, id, ttl)
	if err != nil {
		return nil, storageError(err)
	}
	return searchResponse(res, 0), nil
}

func (s *Server) documentCount(ctx context.Context, r *Request) (any, error) {
	a := r.args()
	index, coll := a.indexAndCollection()
	q, _ := a.query()
	if a.err != nil {
		return nil, a.err
	}
	n, err := s.store.Count(ctx, index, coll, q)
	if err != nil {
		return nil, storageError(err)
	}
	return map[string]int{"count": n}, nil
}

func (s *Server) documentDeleteByQuery(ctx context.Context, r *Request) (any, error) {
	a := r.args()
	index, coll := a.indexAndCollection()
	q, _ := a.query()
	if q.Body == nil {
		a.fail(kerr("api.assert.missing_argument", "body.query"))
	}
	refresh := a.refresh()
	wantSource := a.boolean("source")
	if a.err != nil {
		return nil, a.err
	}
	docs, err := s.store.DeleteByQuery(ctx, index, coll, q, storage.WriteOptions{Refresh: refresh})
	if err != nil {
		return nil, storageError(err)
	}
	changes := make([]realtime.Change, 0, len(docs))
	out := make([]docResult, 0, len(docs))
	ids := make([]string, 0, len(docs))
	for _, d := range docs {
		changes = append(changes, change(d, sourceOf(d), false))
		res := docResult{ID: d.ID}
		if wantSource {
			res.Source = d.Source
		}
		out = append(out, res)
		ids = append(ids, d.ID)
	}
	s.notify(ctx, r, realtime.ActionDelete, changes)
	return map[string]any{"documents": out, "ids": ids}, nil
}

func (s *Server) documentUpdateByQuery(ctx context.Context, r *Request) (any, error) {
	a := r.args()
	index, coll := a.indexAndCollection()
	q, _ := a.query()
	body := a.body()
	if q.Body == nil {
		a.fail(kerr("api.assert.missing_argument", "body.query"))
	}
	changes := a.object(body, "changes", true)
	refresh := a.refresh()
	wantSource := a.boolean("source")
	if a.err != nil {
		return nil, a.err
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
		n := sourceOf(d.Document)
		n.UpdatedFields = fields
		notes = append(notes, change(d.Document, n, false))
		out := docResult{ID: d.ID, Version: d.Version}
		if wantSource {
			out.Source = d.Source
		}
		succ = append(succ, out)
	}
	s.notify(ctx, r, realtime.ActionUpdate, notes)
	return map[string]any{"successes": succ, "errors": bulkErrors(res.Errors, false)}, nil
}

func (s *Server) documentValidate(_ context.Context, r *Request) (any, error) {
	a := r.args()
	a.indexAndCollection()
	if a.err != nil {
		return nil, a.err
	}
	if r.Body == nil {
		return nil, kerr("api.assert.body_required")
	}
	// No validation specifications exist on this server: every document is valid.
	return map[string]any{"errorMessages": map[string]any{}, "valid": true}, nil
}
