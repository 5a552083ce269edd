package elasticsearch

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/streamcluster/streamcluster/storage"
)

// writeResponse is the answer of the index, update and delete APIs.
type writeResponse struct {
	ID      string `json:"_id"`
	Version int64  `json:"_version"`
	Result  string `json:"result"`
	Get     *struct {
		Source map[string]any `json:"_source"`
	} `json:"get"`
}

// getResponse is a GET document answer (and an _mget item).
type getResponse struct {
	ID          string         `json:"_id"`
	Version     int64          `json:"_version"`
	SeqNo       *int64         `json:"_seq_no"`
	PrimaryTerm *int64         `json:"_primary_term"`
	Found       bool           `json:"found"`
	Source      map[string]any `json:"_source"`
}

func (g getResponse) doc() storage.Document {
	src := g.Source
	if src == nil {
		src = map[string]any{}
	}
	return storage.Document{ID: g.ID, Version: g.Version, Source: src}
}

func checkID(id string) error {
	if id == "" {
		return storage.InvalidArgument("_id", "a non-empty string")
	}
	return nil
}

func nonNil(src map[string]any) map[string]any {
	if src == nil {
		return map[string]any{}
	}
	return src
}

// index runs the index API on a collection's alias.
func (s *Store) index(ctx context.Context, index, coll, id string, src map[string]any, opType, refresh string) (writeResponse, error) {
	q := refreshQuery(url.Values{"require_alias": {"true"}}, refresh)
	if opType != "" {
		q.Set("op_type", opType)
	}
	r := request{method: http.MethodPut, path: path(alias(index, coll), "_doc", id), query: q, body: nonNil(src)}
	if id == "" {
		r.method, r.path = http.MethodPost, path(alias(index, coll), "_doc")
	}
	var res writeResponse
	if err := s.do(ctx, r, &res); err != nil {
		return res, s.collectionError(ctx, err, index, coll, id)
	}
	return res, nil
}

// Create implements storage.Store (op_type=create with an id, as Kuzzle).
func (s *Store) Create(ctx context.Context, index, coll, id string, src map[string]any, opts storage.WriteOptions) (storage.Document, error) {
	opType := ""
	if id != "" {
		opType = "create"
	}
	res, err := s.index(ctx, index, coll, id, src, opType, opts.Refresh)
	if err != nil {
		return storage.Document{}, err
	}
	return storage.Document{ID: res.ID, Version: res.Version, Source: nonNil(src)}, nil
}

// CreateOrReplace implements storage.Store.
func (s *Store) CreateOrReplace(ctx context.Context, index, coll, id string, src map[string]any, opts storage.WriteOptions) (storage.Document, bool, error) {
	if err := checkID(id); err != nil {
		return storage.Document{}, false, err
	}
	res, err := s.index(ctx, index, coll, id, src, "", opts.Refresh)
	if err != nil {
		return storage.Document{}, false, err
	}
	return storage.Document{ID: res.ID, Version: res.Version, Source: nonNil(src)}, res.Result == "created", nil
}

// Replace implements storage.Store: an existence check, then the index
// API, as Kuzzle does.
func (s *Store) Replace(ctx context.Context, index, coll, id string, src map[string]any, opts storage.WriteOptions) (storage.Document, error) {
	if err := checkID(id); err != nil {
		return storage.Document{}, err
	}
	ok, err := s.Exists(ctx, index, coll, id)
	if err != nil {
		return storage.Document{}, err
	}
	if !ok {
		return storage.Document{}, storage.NotFound(index, coll, id)
	}
	res, err := s.index(ctx, index, coll, id, src, "", opts.Refresh)
	if err != nil {
		return storage.Document{}, err
	}
	return storage.Document{ID: id, Version: res.Version, Source: nonNil(src)}, nil
}

// update runs the update API with _source=true.
func (s *Store) update(ctx context.Context, index, coll, id string, body map[string]any, opts storage.UpdateOptions) (storage.Document, bool, error) {
	if err := checkID(id); err != nil {
		return storage.Document{}, false, err
	}
	q := refreshQuery(url.Values{"require_alias": {"true"}, "_source": {"true"}}, opts.Refresh)
	if opts.RetryOnConflict > 0 {
		q.Set("retry_on_conflict", strconv.Itoa(opts.RetryOnConflict))
	}
	var res writeResponse
	err := s.do(ctx, request{method: http.MethodPost, path: path(alias(index, coll), "_update", id), query: q, body: body}, &res)
	if err != nil {
		return storage.Document{}, false, s.collectionError(ctx, err, index, coll, id)
	}
	doc := storage.Document{ID: res.ID, Version: res.Version, Source: map[string]any{}}
	if res.Get != nil {
		doc.Source = nonNil(res.Get.Source)
	}
	return doc, res.Result == "created", nil
}

// Update implements storage.Store.
func (s *Store) Update(ctx context.Context, index, coll, id string, partial map[string]any, opts storage.UpdateOptions) (storage.Document, error) {
	doc, _, err := s.update(ctx, index, coll, id, map[string]any{"doc": nonNil(partial)}, opts)
	return doc, err
}

// upsertBody is Kuzzle's upsert request: the new document is defaults
// overlaid by changes at the top level.
func upsertBody(changes, defaults map[string]any) map[string]any {
	up := storage.CopySource(defaults)
	for k, v := range changes {
		up[k] = v
	}
	return map[string]any{"doc": nonNil(changes), "upsert": up}
}

// Upsert implements storage.Store.
func (s *Store) Upsert(ctx context.Context, index, coll, id string, changes, defaults map[string]any, opts storage.UpdateOptions) (storage.Document, bool, error) {
	return s.update(ctx, index, coll, id, upsertBody(changes, defaults), opts)
}

// Get implements storage.Store.
func (s *Store) Get(ctx context.Context, index, coll, id string) (storage.Document, error) {
	g, err := s.get(ctx, index, coll, id)
	if err != nil {
		return storage.Document{}, err
	}
	return g.doc(), nil
}

func (s *Store) get(ctx context.Context, index, coll, id string) (getResponse, error) {
	var g getResponse
	if err := checkID(id); err != nil {
		return g, err
	}
	if err := s.do(ctx, request{method: http.MethodGet, path: path(alias(index, coll), "_doc", id)}, &g); err != nil {
		return g, s.collectionError(ctx, err, index, coll, id)
	}
	return g, nil
}

// Exists implements storage.Store.
func (s *Store) Exists(ctx context.Context, index, coll, id string) (bool, error) {
	if err := checkID(id); err != nil {
		return false, err
	}
	ok, err := s.exists(ctx, path(alias(index, coll), "_doc", id))
	if err != nil || ok {
		return ok, err
	}
	// A HEAD 404 does not say whether the document or the collection is
	// missing.
	return false, s.requireCollection(ctx, index, coll)
}

// maxDeleteAttempts bounds the get-then-delete loop of Delete.
const maxDeleteAttempts = 3

// Delete implements storage.Store. It reads the document, then deletes
// exactly that version (if_seq_no/if_primary_term) so the returned source is
// the one deleted.
func (s *Store) Delete(ctx context.Context, index, coll, id string, opts storage.WriteOptions) (storage.Document, error) {
	for range maxDeleteAttempts {
		g, err := s.get(ctx, index, coll, id)
		if err != nil {
			return storage.Document{}, err
		}
		q := refreshQuery(url.Values{}, opts.Refresh)
		if g.SeqNo != nil && g.PrimaryTerm != nil {
			q.Set("if_seq_no", strconv.FormatInt(*g.SeqNo, 10))
			q.Set("if_primary_term", strconv.FormatInt(*g.PrimaryTerm, 10))
		}
		err = s.do(ctx, request{method: http.MethodDelete, path: path(alias(index, coll), "_doc", id), query: q}, nil)
		if err == nil {
			return g.doc(), nil
		}
		if status(err) == http.StatusConflict {
			continue // changed between the read and the delete
		}
		if status(err) == http.StatusNotFound {
			return storage.Document{}, storage.NotFound(index, coll, id)
		}
		return storage.Document{}, s.collectionError(ctx, err, index, coll, id)
	}
	return storage.Document{}, storage.TooManyChanges(id)
}

// MGet implements storage.Store.
func (s *Store) MGet(ctx context.Context, index, coll string, ids []string) ([]storage.Document, []string, error) {
	found := []storage.Document{}
	missing := []string{}
	if len(ids) == 0 {
		return found, missing, s.requireCollection(ctx, index, coll)
	}
	docs, err := s.mget(ctx, index, coll, ids)
	if err != nil {
		return nil, nil, err
	}
	for _, d := range docs {
		if d.Found {
			found = append(found, d.doc())
		} else {
			missing = append(missing, d.ID)
		}
	}
	return found, missing, nil
}

func (s *Store) mget(ctx context.Context, index, coll string, ids []string) ([]getResponse, error) {
	var res struct {
		Docs []getResponse `json:"docs"`
	}
	err := s.do(ctx, request{method: http.MethodPost, path: path(alias(index, coll), "_mget"), body: map[string]any{"ids": ids}}, &res)
	if err != nil {
		return nil, s.collectionError(ctx, err, index, coll, "")
	}
	return res.Docs, nil
}
