package elasticsearch

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/streamcluster/streamcluster/storage"
)

type searchResponse struct {
	ScrollID string `json:"_scroll_id"`
	Hits     struct {
		Total json.RawMessage `json:"total"` // {"value": n} (7+) or n (6)
		Hits  []struct {
			Index   string         `json:"_index"`
			ID      string         `json:"_id"`
			Version int64          `json:"_version"`
			Score   *float64       `json:"_score"`
			Source  map[string]any `json:"_source"`
		} `json:"hits"`
	} `json:"hits"`
}

func (r searchResponse) result() storage.SearchResult {
	out := storage.SearchResult{ScrollID: r.ScrollID, Hits: make([]storage.Hit, 0, len(r.Hits.Hits))}
	var total struct {
		Value int `json:"value"`
	}
	if json.Unmarshal(r.Hits.Total, &total) == nil {
		out.Total = total.Value
	} else {
		_ = json.Unmarshal(r.Hits.Total, &out.Total)
	}
	for _, h := range r.Hits.Hits {
		index, coll, _ := splitAlias(h.Index)
		hit := storage.Hit{Document: storage.Document{ID: h.ID, Version: h.Version, Source: nonNil(h.Source)}, Index: index, Collection: coll, Score: 1}
		if h.Score != nil {
			hit.Score = *h.Score
		}
		out.Hits = append(out.Hits, hit)
	}
	return out
}

// esQuery returns the Elasticsearch query of q: translated from Koncorde
// when asked, match_all when empty.
func esQuery(q storage.Query) (json.RawMessage, error) {
	body := q.Body
	switch q.Lang {
	case "", storage.LangElasticsearch:
	case storage.LangKoncorde:
		var err error
		if body, err = storage.TranslateKoncorde(body); err != nil {
			return nil, err
		}
	default:
		return nil, storage.InvalidArgument("lang", "\"elasticsearch\" or \"koncorde\"")
	}
	if storage.IsEmptyJSON(body) {
		return json.RawMessage(`{"match_all":{}}`), nil
	}
	return body, nil
}

func millis(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + "ms" }

// Search implements storage.Store.
func (s *Store) Search(ctx context.Context, index, coll string, req storage.SearchRequest) (storage.SearchResult, error) {
	if req.From < 0 || req.Size < 0 {
		return storage.SearchResult{}, storage.InvalidArgument("from/size", "non-negative integers")
	}
	query, err := esQuery(req.Query)
	if err != nil {
		return storage.SearchResult{}, err
	}
	size := req.Size
	if size == 0 {
		size = storage.DefaultSearchSize
	}
	body := map[string]any{"query": query}
	if len(req.Sort) > 0 {
		body["sort"] = req.Sort
	}
	q := url.Values{
		"from":             {strconv.Itoa(req.From)},
		"size":             {strconv.Itoa(size)},
		"version":          {"true"},
		"track_total_hits": {"true"},
	}
	if req.Scroll > 0 {
		q.Set("scroll", millis(req.Scroll))
	}
	var res searchResponse
	if err := s.do(ctx, request{method: http.MethodPost, path: path(alias(index, coll), "_search"), query: q, body: body}, &res); err != nil {
		return storage.SearchResult{}, s.collectionError(ctx, err, index, coll, "")
	}
	return res.result(), nil
}

// Scroll implements storage.Store.
func (s *Store) Scroll(ctx context.Context, scrollID string, ttl time.Duration) (storage.SearchResult, error) {
	if scrollID == "" {
		return storage.SearchResult{}, storage.UnknownScrollID()
	}
	if ttl <= 0 {
		ttl = s.cfg.ScrollTTL
	}
	var res searchResponse
	err := s.do(ctx, request{method: http.MethodPost, path: "/_search/scroll", body: map[string]any{"scroll": millis(ttl), "scroll_id": scrollID}}, &res)
	if err != nil {
		// An expired cursor is a 404 search_context_missing_exception; an id
		// that never existed may also be a 400 "Cannot parse scroll id".
		if st := status(err); st == http.StatusNotFound || st == http.StatusBadRequest {
			return storage.SearchResult{}, storage.UnknownScrollID()
		}
		return storage.SearchResult{}, s.mapError(err, "", "", "")
	}
	return res.result(), nil
}

// Count implements storage.Store.
func (s *Store) Count(ctx context.Context, index, coll string, q storage.Query) (int, error) {
	query, err := esQuery(q)
	if err != nil {
		return 0, err
	}
	var res struct {
		Count int `json:"count"`
	}
	if err := s.do(ctx, request{method: http.MethodPost, path: path(alias(index, coll), "_count"), body: map[string]any{"query": query}}, &res); err != nil {
		return 0, s.collectionError(ctx, err, index, coll, "")
	}
	return res.Count, nil
}

// matching returns every document matching q, up to MaxByQuery.
func (s *Store) matching(ctx context.Context, index, coll string, q storage.Query) ([]storage.Document, error) {
	res, err := s.Search(ctx, index, coll, storage.SearchRequest{Query: q, Size: s.cfg.MaxByQuery})
	if err != nil {
		return nil, err
	}
	if res.Total > len(res.Hits) {
		return nil, &storage.Error{ID: "services.storage.write_limit_exceeded", Kind: storage.ErrInvalidArgument}
	}
	docs := make([]storage.Document, len(res.Hits))
	for i, h := range res.Hits {
		docs[i] = h.Document
	}
	return docs, nil
}

// DeleteByQuery implements storage.Store: like Kuzzle, it fetches the
// matching documents, then deletes them with one bulk request.
func (s *Store) DeleteByQuery(ctx context.Context, index, coll string, q storage.Query, opts storage.WriteOptions) ([]storage.Document, error) {
	docs, err := s.matching(ctx, index, coll, q)
	if err != nil || len(docs) == 0 {
		return []storage.Document{}, err
	}
	ids := make([]string, len(docs))
	found := make(map[string]storage.Document, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
		found[d.ID] = d
	}
	res, err := s.deleteFound(ctx, index, coll, ids, found, opts.Refresh)
	if err != nil {
		return nil, err
	}
	deleted := make([]storage.Document, len(res.Successes))
	for i, ok := range res.Successes {
		deleted[i] = ok.Document
	}
	return deleted, nil
}

// UpdateByQuery implements storage.Store: the matching documents are
// updated with one bulk request that returns their new sources.
func (s *Store) UpdateByQuery(ctx context.Context, index, coll string, q storage.Query, changes map[string]any, opts storage.WriteOptions) (storage.BulkResult, error) {
	docs, err := s.matching(ctx, index, coll, q)
	if err != nil {
		return newResult(), err
	}
	if len(docs) == 0 {
		return newResult(), nil
	}
	items := make([]storage.BulkItem, len(docs))
	for i, d := range docs {
		items[i] = storage.BulkItem{ID: d.ID, Source: changes}
	}
	return s.MUpdate(ctx, index, coll, items, storage.UpdateOptions{Refresh: opts.Refresh})
}
