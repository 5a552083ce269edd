package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"github.com/streamcluster/streamcluster/storage"
)

// matching returns the documents of a collection that match q, unsorted.
func (s *Store) matching(ctx context.Context, index, coll string, q storage.Query) ([]storage.Document, error) {
	m, err := storage.Compile(index, coll, q)
	if err != nil {
		return nil, err
	}
	docs, err := s.load(ctx, index, coll, nil)
	if err != nil {
		return nil, err
	}
	out := docs[:0]
	for _, d := range docs {
		if m.Match(d.ID, d.Source) {
			out = append(out, d)
		}
	}
	return out, nil
}

// Search implements storage.Store.
func (s *Store) Search(ctx context.Context, index, coll string, req storage.SearchRequest) (storage.SearchResult, error) {
	if req.From < 0 || req.Size < 0 {
		return storage.SearchResult{}, storage.InvalidArgument("from/size", "non-negative integers")
	}
	sortBy, err := storage.CompileSort(req.Sort)
	if err != nil {
		return storage.SearchResult{}, err
	}
	docs, err := s.matching(ctx, index, coll, req.Query)
	if err != nil {
		return storage.SearchResult{}, err
	}
	hits := make([]storage.Hit, len(docs))
	for i, d := range docs {
		hits[i] = storage.Hit{Document: d, Index: index, Collection: coll, Score: 1}
	}
	storage.SortHits(hits, sortBy)
	size := req.Size
	if size == 0 {
		size = storage.DefaultSearchSize
	}
	res := storage.SearchResult{Total: len(hits), Hits: page(hits, req.From, size)}
	if req.Scroll <= 0 {
		return res, nil
	}
	rest := []storage.Hit{}
	if end := req.From + size; end < len(hits) {
		rest = hits[end:]
	}
	res.ScrollID, err = s.openScroll(ctx, index, coll, len(hits), size, req.Scroll, rest)
	return res, err
}

func page(hits []storage.Hit, from, size int) []storage.Hit {
	if from >= len(hits) {
		return []storage.Hit{}
	}
	end := min(from+size, len(hits))
	return hits[from:end]
}

// scrollChunk bounds the ids pushed by one RPUSH.
const scrollChunk = 1000

func (s *Store) openScroll(ctx context.Context, index, coll string, total, size int, ttl time.Duration, rest []storage.Hit) (string, error) {
	id := newID()
	sk := s.k.scroll(id)
	ms := strconv.FormatInt(ttl.Milliseconds(), 10)
	cmds := rueidis.Commands{
		s.c.B().Hset().Key(sk[1]).FieldValue().
			FieldValue("index", index).FieldValue("coll", coll).
			FieldValue("total", strconv.Itoa(total)).FieldValue("size", strconv.Itoa(size)).
			FieldValue("ttl", ms).Build(),
		s.c.B().Pexpire().Key(sk[1]).Milliseconds(ttl.Milliseconds()).Build(),
	}
	for i := 0; i < len(rest); i += scrollChunk {
		chunk := rest[i:min(i+scrollChunk, len(rest))]
		ids := make([]string, len(chunk))
		for j, h := range chunk {
			ids[j] = h.ID
		}
		cmds = append(cmds, s.c.B().Rpush().Key(sk[0]).Element(ids...).Build())
	}
	if len(rest) > 0 {
		cmds = append(cmds, s.c.B().Pexpire().Key(sk[0]).Milliseconds(ttl.Milliseconds()).Build())
	}
	for _, r := range s.c.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			return "", fmt.Errorf("redisstore: open scroll: %w", err)
		}
	}
	return id, nil
}

// Scroll implements storage.Store. Pages come from the ids matched when the
// search ran; documents deleted since are skipped, updated ones are read as
// they are now.
func (s *Store) Scroll(ctx context.Context, scrollID string, ttl time.Duration) (storage.SearchResult, error) {
	if err := s.check(); err != nil {
		return storage.SearchResult{}, err
	}
	if scrollID == "" {
		return storage.SearchResult{}, storage.UnknownScrollID()
	}
	res, err := s.scroll.Exec(ctx, s.c, s.k.scroll(scrollID), []string{strconv.FormatInt(ttl.Milliseconds(), 10)}).ToArray()
	if rueidis.IsRedisNil(err) {
		return storage.SearchResult{}, storage.UnknownScrollID()
	}
	if err != nil || len(res) != 4 {
		return storage.SearchResult{}, fmt.Errorf("redisstore: scroll: %w", err)
	}
	index, _ := res[0].ToString()
	coll, _ := res[1].ToString()
	total, _ := res[2].AsInt64()
	ids, err := res[3].AsStrSlice()
	if err != nil && !rueidis.IsRedisNil(err) {
		return storage.SearchResult{}, fmt.Errorf("redisstore: scroll ids: %w", err)
	}
	out := storage.SearchResult{Total: int(total), ScrollID: scrollID, Hits: []storage.Hit{}}
	if len(ids) == 0 {
		return out, nil
	}
	found, _, err := s.MGet(ctx, index, coll, ids)
	if err != nil {
		return storage.SearchResult{}, err
	}
	for _, d := range found {
		out.Hits = append(out.Hits, storage.Hit{Document: d, Index: index, Collection: coll, Score: 1})
	}
	return out, nil
}

// Count implements storage.Store. Counting everything reads no document.
func (s *Store) Count(ctx context.Context, index, coll string, q storage.Query) (int, error) {
	knownLang := q.Lang == "" || q.Lang == storage.LangElasticsearch || q.Lang == storage.LangKoncorde
	if knownLang && storage.IsEmptyJSON(q.Body) {
		if err := s.requireCollection(ctx, index, coll); err != nil {
			return 0, err
		}
		n, err := s.c.Do(ctx, s.c.B().Hlen().Key(s.k.coll(index, coll)[1]).Build()).AsInt64()
		if err != nil {
			return 0, fmt.Errorf("redisstore: count: %w", err)
		}
		return int(n), nil
	}
	docs, err := s.matching(ctx, index, coll, q)
	return len(docs), err
}

// DeleteByQuery implements storage.Store.
func (s *Store) DeleteByQuery(ctx context.Context, index, coll string, q storage.Query, opts storage.WriteOptions) ([]storage.Document, error) {
	docs, err := s.matching(ctx, index, coll, q)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	res, err := s.MDelete(ctx, index, coll, ids, opts)
	if err != nil {
		return nil, err
	}
	deleted := make([]storage.Document, len(res.Successes))
	for i, ok := range res.Successes {
		deleted[i] = ok.Document
	}
	return deleted, nil
}

// UpdateByQuery implements storage.Store.
func (s *Store) UpdateByQuery(ctx context.Context, index, coll string, q storage.Query, changes map[string]any, opts storage.WriteOptions) (storage.BulkResult, error) {
	docs, err := s.matching(ctx, index, coll, q)
	if err != nil {
		return storage.BulkResult{}, err
	}
	items := make([]storage.BulkItem, len(docs))
	for i, d := range docs {
		items[i] = storage.BulkItem{ID: d.ID, Source: changes}
	}
	return s.MUpdate(ctx, index, coll, items, storage.UpdateOptions{Refresh: opts.Refresh})
}
