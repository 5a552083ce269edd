package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/streamcluster/streamcluster/storage"
)

// bulkOp is one action of a _bulk request.
type bulkOp struct {
	action string         // create | index | update | delete
	meta   map[string]any // action metadata (_id, retry_on_conflict, _source)
	body   any            // nil for delete
	// item is the input position this op answers for.
	item int
}

type bulkItemResult struct {
	ID      string   `json:"_id"`
	Version int64    `json:"_version"`
	Result  string   `json:"result"`
	Status  int      `json:"status"`
	Error   *esError `json:"error"`
	Get     *struct {
		Source map[string]any `json:"_source"`
	} `json:"get"`
}

// bulk sends ops to a collection's alias and returns one result per op.
func (s *Store) bulk(ctx context.Context, index, coll string, ops []bulkOp, refresh string) ([]bulkItemResult, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf) // Encode appends the newline NDJSON needs
	enc.SetEscapeHTML(false)
	for _, op := range ops {
		if err := enc.Encode(map[string]any{op.action: op.meta}); err != nil {
			return nil, fmt.Errorf("elasticsearch: encode bulk: %w", err)
		}
		if op.body != nil {
			if err := enc.Encode(op.body); err != nil {
				return nil, storage.InvalidArgument("body", "a JSON object")
			}
		}
	}
	var res struct {
		Items []map[string]bulkItemResult `json:"items"`
	}
	err := s.do(ctx, request{
		method: http.MethodPost,
		path:   path(alias(index, coll), "_bulk"),
		query:  refreshQuery(url.Values{"require_alias": {"true"}}, refresh),
		body:   buf.Bytes(),
		ndjson: true,
	}, &res)
	if err != nil {
		return nil, s.collectionError(ctx, err, index, coll, "")
	}
	if len(res.Items) != len(ops) {
		return nil, storage.Unexpected(fmt.Errorf("bulk answered %d items for %d actions", len(res.Items), len(ops)))
	}
	out := make([]bulkItemResult, len(ops))
	for i, it := range res.Items {
		for _, r := range it {
			out[i] = r
		}
		if e := out[i].Error; e != nil && e.Type == "index_not_found_exception" {
			return nil, s.missingCollection(ctx, index, coll)
		}
	}
	return out, nil
}

func newResult() storage.BulkResult {
	return storage.BulkResult{Successes: []storage.BulkSuccess{}, Errors: []storage.BulkError{}}
}

// collect turns bulk answers into a BulkResult; source gives the document
// source of a success when Elasticsearch does not return one.
func collect(out *storage.BulkResult, index, coll string, ops []bulkOp, res []bulkItemResult, input func(item int) (string, map[string]any)) {
	for i, r := range res {
		id, src := input(ops[i].item)
		if r.Error != nil {
			err := mapESError(r.Status, *r.Error, nil, index, coll, id)
			out.Errors = append(out.Errors, storage.BulkError{ID: id, Source: src, Err: err})
			continue
		}
		doc := storage.Document{ID: r.ID, Version: r.Version, Source: nonNil(src)}
		if r.Get != nil {
			doc.Source = nonNil(r.Get.Source)
		}
		out.Successes = append(out.Successes, storage.BulkSuccess{Document: doc, Created: r.Result == "created"})
	}
}

func (s *Store) mIndex(ctx context.Context, index, coll string, items []storage.BulkItem, action string, refresh string) (storage.BulkResult, error) {
	out := newResult()
	if len(items) == 0 {
		return out, s.requireCollection(ctx, index, coll)
	}
	ops := make([]bulkOp, 0, len(items))
	for i, it := range items {
		meta := map[string]any{}
		act := action
		if it.ID != "" {
			meta["_id"] = it.ID
		} else if action == "create" {
			act = "index" // Elasticsearch generates the id
		} else {
			out.Errors = append(out.Errors, storage.BulkError{Source: it.Source, Err: storage.InvalidArgument("_id", "a non-empty string")})
			continue
		}
		ops = append(ops, bulkOp{action: act, meta: meta, body: nonNil(it.Source), item: i})
	}
	if len(ops) == 0 {
		return out, nil
	}
	res, err := s.bulk(ctx, index, coll, ops, refresh)
	if err != nil {
		return out, err
	}
	collect(&out, index, coll, ops, res, func(i int) (string, map[string]any) { return items[i].ID, items[i].Source })
	return out, nil
}

// MCreate implements storage.Store.
func (s *Store) MCreate(ctx context.Context, index, coll string, items []storage.BulkItem, opts storage.WriteOptions) (storage.BulkResult, error) {
	return s.mIndex(ctx, index, coll, items, "create", opts.Refresh)
}

// MCreateOrReplace implements storage.Store.
func (s *Store) MCreateOrReplace(ctx context.Context, index, coll string, items []storage.BulkItem, opts storage.WriteOptions) (storage.BulkResult, error) {
	return s.mIndex(ctx, index, coll, items, "index", opts.Refresh)
}

// existing returns the ids among ids that exist, with their documents.
func (s *Store) existing(ctx context.Context, index, coll string, ids []string) (map[string]storage.Document, error) {
	found := map[string]storage.Document{}
	if len(ids) == 0 {
		return found, s.requireCollection(ctx, index, coll)
	}
	docs, err := s.mget(ctx, index, coll, ids)
	if err != nil {
		return nil, err
	}
	for _, d := range docs {
		if d.Found {
			found[d.ID] = d.doc()
		}
	}
	return found, nil
}

// MReplace implements storage.Store: like Kuzzle, it looks the documents
// up first and only replaces those that exist.
func (s *Store) MReplace(ctx context.Context, index, coll string, items []storage.BulkItem, opts storage.WriteOptions) (storage.BulkResult, error) {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	found, err := s.existing(ctx, index, coll, ids)
	if err != nil {
		return newResult(), err
	}
	var present []storage.BulkItem
	out := newResult()
	for _, it := range items {
		if _, ok := found[it.ID]; ok {
			present = append(present, it)
			continue
		}
		out.Errors = append(out.Errors, storage.BulkError{ID: it.ID, Source: it.Source, Err: storage.NotFound(index, coll, it.ID)})
	}
	if len(present) == 0 {
		return out, nil
	}
	res, err := s.mIndex(ctx, index, coll, present, "index", opts.Refresh)
	if err != nil {
		return out, err
	}
	res.Errors = append(res.Errors, out.Errors...)
	return res, nil
}

func updateMeta(id string, retries int) map[string]any {
	meta := map[string]any{"_id": id, "_source": true}
	if retries > 0 {
		meta["retry_on_conflict"] = retries
	}
	return meta
}

// MUpdate implements storage.Store.
func (s *Store) MUpdate(ctx context.Context, index, coll string, items []storage.BulkItem, opts storage.UpdateOptions) (storage.BulkResult, error) {
	out := newResult()
	if len(items) == 0 {
		return out, s.requireCollection(ctx, index, coll)
	}
	ops := make([]bulkOp, len(items))
	for i, it := range items {
		ops[i] = bulkOp{action: "update", meta: updateMeta(it.ID, opts.RetryOnConflict), body: map[string]any{"doc": nonNil(it.Source)}, item: i}
	}
	res, err := s.bulk(ctx, index, coll, ops, opts.Refresh)
	if err != nil {
		return out, err
	}
	collect(&out, index, coll, ops, res, func(i int) (string, map[string]any) { return items[i].ID, items[i].Source })
	return out, nil
}

// MUpsert implements storage.Store.
func (s *Store) MUpsert(ctx context.Context, index, coll string, items []storage.UpsertItem, opts storage.UpdateOptions) (storage.BulkResult, error) {
	out := newResult()
	if len(items) == 0 {
		return out, s.requireCollection(ctx, index, coll)
	}
	ops := make([]bulkOp, len(items))
	for i, it := range items {
		ops[i] = bulkOp{action: "update", meta: updateMeta(it.ID, opts.RetryOnConflict), body: upsertBody(it.Changes, it.Defaults), item: i}
	}
	res, err := s.bulk(ctx, index, coll, ops, opts.Refresh)
	if err != nil {
		return out, err
	}
	collect(&out, index, coll, ops, res, func(i int) (string, map[string]any) { return items[i].ID, items[i].Changes })
	return out, nil
}

// MDelete implements storage.Store: like Kuzzle, it reads the documents
// first (to return them) and deletes those that exist.
func (s *Store) MDelete(ctx context.Context, index, coll string, ids []string, opts storage.WriteOptions) (storage.BulkResult, error) {
	found, err := s.existing(ctx, index, coll, ids)
	if err != nil {
		return newResult(), err
	}
	return s.deleteFound(ctx, index, coll, ids, found, opts.Refresh)
}

func (s *Store) deleteFound(ctx context.Context, index, coll string, ids []string, found map[string]storage.Document, refresh string) (storage.BulkResult, error) {
	out := newResult()
	var ops []bulkOp
	var missing []storage.BulkError
	for i, id := range ids {
		if _, ok := found[id]; !ok {
			missing = append(missing, storage.BulkError{ID: id, Err: storage.NotFound(index, coll, id)})
			continue
		}
		ops = append(ops, bulkOp{action: "delete", meta: map[string]any{"_id": id}, item: i})
	}
	if len(ops) > 0 {
		res, err := s.bulk(ctx, index, coll, ops, refresh)
		if err != nil {
			return out, err
		}
		collect(&out, index, coll, ops, res, func(i int) (string, map[string]any) { return ids[i], found[ids[i]].Source })
		for i := range out.Successes {
			out.Successes[i].Version = found[out.Successes[i].ID].Version
			out.Successes[i].Created = false
		}
	}
	out.Errors = append(out.Errors, missing...)
	return out, nil
}
