package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/redis/rueidis"

	"github.com/streamcluster/streamcluster/storage"
)

// newID returns a random 20-character URL-safe id, the shape of
// Elasticsearch's generated ids.
func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func encodeSource(src map[string]any) (string, error) {
	if src == nil {
		src = map[string]any{}
	}
	b, err := json.Marshal(src)
	if err != nil {
		return "", storage.InvalidArgument("body", "a JSON object")
	}
	return string(b), nil
}

func decodeSource(raw string) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("redisstore: corrupt document source: %w", err)
	}
	return m, nil
}

func checkID(id string) error {
	if id == "" {
		return storage.InvalidArgument("_id", "a non-empty string")
	}
	return nil
}

// writeResult runs write.lua and maps its status.
func (s *Store) writeDoc(ctx context.Context, mode, index, coll, id string, src map[string]any) (storage.Document, bool, error) {
	if err := s.check(); err != nil {
		return storage.Document{}, false, err
	}
	raw, err := encodeSource(src)
	if err != nil {
		return storage.Document{}, false, err
	}
	res, err := s.write.Exec(ctx, s.c, s.k.coll(index, coll), []string{mode, id, raw}).ToArray()
	if err != nil {
		return storage.Document{}, false, fmt.Errorf("redisstore: %s: %w", mode, err)
	}
	return s.writeOutcome(ctx, res, index, coll, id, src)
}

func (s *Store) writeOutcome(ctx context.Context, res []rueidis.RedisMessage, index, coll, id string, src map[string]any) (storage.Document, bool, error) {
	status, err := res[0].ToString()
	if err != nil {
		return storage.Document{}, false, fmt.Errorf("redisstore: write reply: %w", err)
	}
	switch status {
	case "nocoll":
		return storage.Document{}, false, s.missingCollection(ctx, index, coll)
	case "exists":
		return storage.Document{}, false, storage.AlreadyExists(index, coll, id)
	case "notfound":
		return storage.Document{}, false, storage.NotFound(index, coll, id)
	}
	v, err := res[1].AsInt64()
	if err != nil {
		return storage.Document{}, false, fmt.Errorf("redisstore: write reply: %w", err)
	}
	return storage.Document{ID: id, Version: v, Source: src}, status == "created", nil
}

// Create implements storage.Store.
func (s *Store) Create(ctx context.Context, index, coll, id string, src map[string]any, _ storage.WriteOptions) (storage.Document, error) {
	if id == "" {
		id = newID()
	}
	doc, _, err := s.writeDoc(ctx, "create", index, coll, id, src)
	return doc, err
}

// CreateOrReplace implements storage.Store.
func (s *Store) CreateOrReplace(ctx context.Context, index, coll, id string, src map[string]any, _ storage.WriteOptions) (storage.Document, bool, error) {
	if err := checkID(id); err != nil {
		return storage.Document{}, false, err
	}
	return s.writeDoc(ctx, "createOrReplace", index, coll, id, src)
}

// Replace implements storage.Store.
func (s *Store) Replace(ctx context.Context, index, coll, id string, src map[string]any, _ storage.WriteOptions) (storage.Document, error) {
	if err := checkID(id); err != nil {
		return storage.Document{}, err
	}
	doc, _, err := s.writeDoc(ctx, "replace", index, coll, id, src)
	return doc, err
}

// Get implements storage.Store.
func (s *Store) Get(ctx context.Context, index, coll, id string) (storage.Document, error) {
	if err := checkID(id); err != nil {
		return storage.Document{}, err
	}
	docs, err := s.load(ctx, index, coll, []string{id})
	if err != nil {
		return storage.Document{}, err
	}
	if len(docs) == 0 {
		return storage.Document{}, storage.NotFound(index, coll, id)
	}
	return docs[0], nil
}

// Exists implements storage.Store.
func (s *Store) Exists(ctx context.Context, index, coll, id string) (bool, error) {
	_, err := s.Get(ctx, index, coll, id)
	if storage.IsKind(err, storage.ErrDocumentNotFound) {
		return false, nil
	}
	return err == nil, err
}

// MGet implements storage.Store.
func (s *Store) MGet(ctx context.Context, index, coll string, ids []string) ([]storage.Document, []string, error) {
	found := []storage.Document{}
	missing := []string{}
	if len(ids) == 0 {
		return found, missing, s.requireCollection(ctx, index, coll)
	}
	docs, err := s.load(ctx, index, coll, ids)
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[string]storage.Document, len(docs))
	for _, d := range docs {
		byID[d.ID] = d
	}
	for _, id := range ids {
		if d, ok := byID[id]; ok {
			found = append(found, d)
		} else {
			missing = append(missing, id)
		}
	}
	return found, missing, nil
}

// load reads documents by id (all of them when ids is nil) with get.lua.
func (s *Store) load(ctx context.Context, index, coll string, ids []string) ([]storage.Document, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if ids == nil {
		ids = []string{}
	}
	res, err := s.get.Exec(ctx, s.c, s.k.coll(index, coll), ids).ToArray()
	if err != nil {
		return nil, fmt.Errorf("redisstore: read documents: %w", err)
	}
	status, err := res[0].ToString()
	if err != nil {
		return nil, fmt.Errorf("redisstore: read reply: %w", err)
	}
	if status == "nocoll" {
		return nil, s.missingCollection(ctx, index, coll)
	}
	docs := make([]storage.Document, 0, (len(res)-1)/3)
	for i := 1; i+2 < len(res); i += 3 {
		id, err1 := res[i].ToString()
		raw, err2 := res[i+1].ToString()
		vs, err3 := res[i+2].ToString()
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("redisstore: malformed read reply")
		}
		src, err := decodeSource(raw)
		if err != nil {
			return nil, err
		}
		v, _ := strconv.ParseInt(vs, 10, 64)
		docs = append(docs, storage.Document{ID: id, Version: v, Source: src})
	}
	return docs, nil
}

// Delete implements storage.Store.
func (s *Store) Delete(ctx context.Context, index, coll, id string, _ storage.WriteOptions) (storage.Document, error) {
	if err := s.check(); err != nil {
		return storage.Document{}, err
	}
	if err := checkID(id); err != nil {
		return storage.Document{}, err
	}
	res, err := s.del.Exec(ctx, s.c, s.k.coll(index, coll), []string{id}).ToArray()
	if err != nil {
		return storage.Document{}, fmt.Errorf("redisstore: delete: %w", err)
	}
	return s.deleteOutcome(ctx, res, index, coll, id)
}

func (s *Store) deleteOutcome(ctx context.Context, res []rueidis.RedisMessage, index, coll, id string) (storage.Document, error) {
	status, err := res[0].ToString()
	if err != nil {
		return storage.Document{}, fmt.Errorf("redisstore: delete reply: %w", err)
	}
	switch status {
	case "nocoll":
		return storage.Document{}, s.missingCollection(ctx, index, coll)
	case "notfound":
		return storage.Document{}, storage.NotFound(index, coll, id)
	}
	raw, err1 := res[1].ToString()
	vs, err2 := res[2].ToString()
	if err1 != nil || err2 != nil {
		return storage.Document{}, fmt.Errorf("redisstore: malformed delete reply")
	}
	src, err := decodeSource(raw)
	if err != nil {
		return storage.Document{}, err
	}
	v, _ := strconv.ParseInt(vs, 10, 64)
	return storage.Document{ID: id, Version: v, Source: src}, nil
}

// Update implements storage.Store.
func (s *Store) Update(ctx context.Context, index, coll, id string, partial map[string]any, opts storage.UpdateOptions) (storage.Document, error) {
	if err := checkID(id); err != nil {
		return storage.Document{}, err
	}
	doc, _, err := s.modify(ctx, index, coll, id, opts.RetryOnConflict, func(cur *storage.Document) (map[string]any, error) {
		if cur == nil {
			return nil, storage.NotFound(index, coll, id)
		}
		return storage.MergeDocument(cur.Source, partial), nil
	})
	return doc, err
}

// Upsert implements storage.Store. A new document is defaults overlaid by
// changes at the top level, as Kuzzle builds it.
func (s *Store) Upsert(ctx context.Context, index, coll, id string, changes, defaults map[string]any, opts storage.UpdateOptions) (storage.Document, bool, error) {
	if err := checkID(id); err != nil {
		return storage.Document{}, false, err
	}
	return s.modify(ctx, index, coll, id, opts.RetryOnConflict, upsertFunc(changes, defaults))
}

// upsertFunc merges changes into an existing document, or builds a new one
// from defaults overlaid by changes at the top level.
func upsertFunc(changes, defaults map[string]any) func(cur *storage.Document) (map[string]any, error) {
	return func(cur *storage.Document) (map[string]any, error) {
		if cur != nil {
			return storage.MergeDocument(cur.Source, changes), nil
		}
		src := storage.CopySource(defaults)
		for k, v := range storage.CopySource(changes) {
			src[k] = v
		}
		return src, nil
	}
}

// modify is a read-modify-write loop with compare-and-set. fn gets the
// current document (nil when missing) and returns the new source. A write
// that loses a race is retried up to retries times, then fails with
// services.storage.too_many_changes.
func (s *Store) modify(ctx context.Context, index, coll, id string, retries int, fn func(cur *storage.Document) (map[string]any, error)) (storage.Document, bool, error) {
	for attempt := 0; ; attempt++ {
		docs, err := s.load(ctx, index, coll, []string{id})
		if err != nil {
			return storage.Document{}, false, err
		}
		var cur *storage.Document
		var expected int64
		if len(docs) == 1 {
			cur = &docs[0]
			expected = cur.Version
		}
		src, err := fn(cur)
		if err != nil {
			return storage.Document{}, false, err
		}
		raw, err := encodeSource(src)
		if err != nil {
			return storage.Document{}, false, err
		}
		res, err := s.cas.Exec(ctx, s.c, s.k.coll(index, coll), []string{id, strconv.FormatInt(expected, 10), raw}).ToArray()
		if err != nil {
			return storage.Document{}, false, fmt.Errorf("redisstore: update: %w", err)
		}
		status, err := res[0].ToString()
		if err != nil {
			return storage.Document{}, false, fmt.Errorf("redisstore: update reply: %w", err)
		}
		switch status {
		case "nocoll":
			return storage.Document{}, false, s.missingCollection(ctx, index, coll)
		case "conflict":
			if attempt >= retries {
				return storage.Document{}, false, storage.TooManyChanges(id)
			}
			continue
		}
		v, err := res[1].AsInt64()
		if err != nil {
			return storage.Document{}, false, fmt.Errorf("redisstore: update reply: %w", err)
		}
		return storage.Document{ID: id, Version: v, Source: src}, cur == nil, nil
	}
}
