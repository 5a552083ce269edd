package redisstore

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/redis/rueidis"

	"github.com/streamcluster/streamcluster/storage"
)

var (
	//go:embed lua/write.lua
	writeLua string
	//go:embed lua/cas.lua
	casLua string
	//go:embed lua/delete.lua
	deleteLua string
	//go:embed lua/get.lua
	getLua string
	//go:embed lua/scroll.lua
	scrollLua string
	//go:embed lua/delete_index.lua
	deleteIndexLua string
)

// Store is the Redis document store. It is safe for concurrent use.
type Store struct {
	cfg    Config
	c      rueidis.Client
	k      keys
	closed atomic.Bool

	write, cas, del, get, scroll, deleteIndex *rueidis.Lua
}

var _ storage.Store = (*Store)(nil)

// New returns a Store on cfg.Client. It does no I/O.
func New(cfg Config) (*Store, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Store{
		cfg:         cfg,
		c:           cfg.Client,
		k:           keys{prefix: cfg.Prefix},
		write:       rueidis.NewLuaScript(writeLua),
		cas:         rueidis.NewLuaScript(casLua),
		del:         rueidis.NewLuaScript(deleteLua),
		get:         rueidis.NewLuaScriptReadOnly(getLua),
		scroll:      rueidis.NewLuaScript(scrollLua),
		deleteIndex: rueidis.NewLuaScript(deleteIndexLua),
	}, nil
}

// Close marks the store closed; later calls fail with ErrClosed. It does
// not close the Redis client, which the caller owns. Idempotent.
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}

// ErrClosed is returned by every method after Close.
var ErrClosed = fmt.Errorf("redisstore: store closed")

func (s *Store) check() error {
	if s.closed.Load() {
		return ErrClosed
	}
	return nil
}

// CreateIndex implements storage.Store.
func (s *Store) CreateIndex(ctx context.Context, index string) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := storage.ValidateIndexName(index); err != nil {
		return err
	}
	n, err := s.c.Do(ctx, s.c.B().Sadd().Key(s.k.indexes()).Member(index).Build()).AsInt64()
	if err != nil {
		return fmt.Errorf("redisstore: create index: %w", err)
	}
	if n == 0 {
		return storage.IndexAlreadyExists(index)
	}
	return nil
}

// DeleteIndex implements storage.Store.
func (s *Store) DeleteIndex(ctx context.Context, index string) error {
	if err := s.check(); err != nil {
		return err
	}
	colls, err := s.deleteIndex.Exec(ctx, s.c, []string{s.k.indexes(), s.k.colls(index)}, []string{index}).AsStrSlice()
	if rueidis.IsRedisNil(err) {
		return storage.UnknownIndex(index)
	}
	if err != nil {
		return fmt.Errorf("redisstore: delete index: %w", err)
	}
	for _, coll := range colls {
		if err := s.dropCollectionData(ctx, index, coll); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) dropCollectionData(ctx context.Context, index, coll string) error {
	if err := s.c.Do(ctx, s.c.B().Del().Key(s.k.coll(index, coll)...).Build()).Error(); err != nil {
		return fmt.Errorf("redisstore: delete collection %s:%s: %w", index, coll, err)
	}
	return nil
}

// IndexExists implements storage.Store.
func (s *Store) IndexExists(ctx context.Context, index string) (bool, error) {
	if err := s.check(); err != nil {
		return false, err
	}
	ok, err := s.c.Do(ctx, s.c.B().Sismember().Key(s.k.indexes()).Member(index).Build()).AsBool()
	if err != nil {
		return false, fmt.Errorf("redisstore: index exists: %w", err)
	}
	return ok, nil
}

// ListIndexes implements storage.Store.
func (s *Store) ListIndexes(ctx context.Context) ([]string, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	names, err := s.c.Do(ctx, s.c.B().Smembers().Key(s.k.indexes()).Build()).AsStrSlice()
	if err != nil {
		return nil, fmt.Errorf("redisstore: list indexes: %w", err)
	}
	if names == nil {
		names = []string{}
	}
	slices.Sort(names)
	return names, nil
}

// MDeleteIndexes implements storage.Store.
func (s *Store) MDeleteIndexes(ctx context.Context, names []string) ([]string, error) {
	return storage.DeleteIndexes(ctx, names, s.DeleteIndex)
}

// CreateCollection implements storage.Store.
func (s *Store) CreateCollection(ctx context.Context, index, coll string, mappings json.RawMessage) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := storage.ValidateIndexName(index); err != nil {
		return err
	}
	if err := storage.ValidateCollectionName(coll); err != nil {
		return err
	}
	in, err := storage.ParseMappings(mappings)
	if err != nil {
		return err
	}
	if err := s.requireIndex(ctx, index); err != nil {
		return err
	}
	raw, err := json.Marshal(storage.NewMappings(in))
	if err != nil {
		return fmt.Errorf("redisstore: encode mappings: %w", err)
	}
	ck := s.k.coll(index, coll)
	created, err := s.c.Do(ctx, s.c.B().Set().Key(ck[0]).Value(string(raw)).Nx().Build()).AsBool()
	if err != nil && !rueidis.IsRedisNil(err) {
		return fmt.Errorf("redisstore: create collection: %w", err)
	}
	if err := s.c.Do(ctx, s.c.B().Sadd().Key(s.k.colls(index)).Member(coll).Build()).Error(); err != nil {
		return fmt.Errorf("redisstore: register collection: %w", err)
	}
	if created {
		return nil
	}
	return s.UpdateCollection(ctx, index, coll, mappings)
}

// UpdateCollection implements storage.Store.
func (s *Store) UpdateCollection(ctx context.Context, index, coll string, mappings json.RawMessage) error {
	if err := s.check(); err != nil {
		return err
	}
	in, err := storage.ParseMappings(mappings)
	if err != nil {
		return err
	}
	ck := s.k.coll(index, coll)
	// Mapping updates are rare and carry no version: the last writer wins
	// between concurrent updates of one collection, as in Elasticsearch
	// where each put-mapping merges into the current state.
	cur, err := s.mappings(ctx, index, coll)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(cur.Apply(in))
	if err != nil {
		return fmt.Errorf("redisstore: encode mappings: %w", err)
	}
	err = s.c.Do(ctx, s.c.B().Set().Key(ck[0]).Value(string(raw)).Xx().Build()).Error()
	if rueidis.IsRedisNil(err) {
		return s.missingCollection(ctx, index, coll)
	}
	if err != nil {
		return fmt.Errorf("redisstore: update collection: %w", err)
	}
	return nil
}

func (s *Store) mappings(ctx context.Context, index, coll string) (storage.Mappings, error) {
	var m storage.Mappings
	raw, err := s.c.Do(ctx, s.c.B().Get().Key(s.k.coll(index, coll)[0]).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return m, s.missingCollection(ctx, index, coll)
	}
	if err != nil {
		return m, fmt.Errorf("redisstore: get mappings: %w", err)
	}
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return m, fmt.Errorf("redisstore: decode mappings of %s:%s: %w", index, coll, err)
	}
	if m.Properties == nil {
		m.Properties = map[string]any{}
	}
	return m, nil
}

// DeleteCollection implements storage.Store.
func (s *Store) DeleteCollection(ctx context.Context, index, coll string) error {
	if err := s.check(); err != nil {
		return err
	}
	// Data first, registry second: a crash in between leaves a registry
	// entry without data, which CreateCollection and a second
	// DeleteCollection both repair.
	dropped, err := s.c.Do(ctx, s.c.B().Del().Key(s.k.coll(index, coll)...).Build()).AsInt64()
	if err != nil {
		return fmt.Errorf("redisstore: delete collection %s:%s: %w", index, coll, err)
	}
	n, err := s.c.Do(ctx, s.c.B().Srem().Key(s.k.colls(index)).Member(coll).Build()).AsInt64()
	if err != nil {
		return fmt.Errorf("redisstore: delete collection: %w", err)
	}
	if n == 0 && dropped == 0 {
		return s.missingCollection(ctx, index, coll)
	}
	return nil
}

// CollectionExists implements storage.Store.
func (s *Store) CollectionExists(ctx context.Context, index, coll string) (bool, error) {
	if err := s.check(); err != nil {
		return false, err
	}
	n, err := s.c.Do(ctx, s.c.B().Exists().Key(s.k.coll(index, coll)[0]).Build()).AsInt64()
	if err != nil {
		return false, fmt.Errorf("redisstore: collection exists: %w", err)
	}
	return n == 1, nil
}

// ListCollections implements storage.Store.
func (s *Store) ListCollections(ctx context.Context, index string) ([]string, error) {
	if err := s.requireIndex(ctx, index); err != nil {
		return nil, err
	}
	names, err := s.c.Do(ctx, s.c.B().Smembers().Key(s.k.colls(index)).Build()).AsStrSlice()
	if err != nil {
		return nil, fmt.Errorf("redisstore: list collections: %w", err)
	}
	if names == nil {
		names = []string{}
	}
	slices.Sort(names)
	return names, nil
}

// TruncateCollection implements storage.Store.
func (s *Store) TruncateCollection(ctx context.Context, index, coll string) error {
	if err := s.requireCollection(ctx, index, coll); err != nil {
		return err
	}
	ck := s.k.coll(index, coll)
	if err := s.c.Do(ctx, s.c.B().Del().Key(ck[1], ck[2]).Build()).Error(); err != nil {
		return fmt.Errorf("redisstore: truncate: %w", err)
	}
	return nil
}

// RefreshCollection implements storage.Store. Redis writes are visible at
// once, so it only checks that the collection exists.
func (s *Store) RefreshCollection(ctx context.Context, index, coll string) error {
	return s.requireCollection(ctx, index, coll)
}

// GetMapping implements storage.Store.
func (s *Store) GetMapping(ctx context.Context, index, coll string) (json.RawMessage, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	m, err := s.mappings(ctx, index, coll)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("redisstore: encode mappings: %w", err)
	}
	return raw, nil
}

func (s *Store) requireIndex(ctx context.Context, index string) error {
	ok, err := s.IndexExists(ctx, index)
	if err != nil {
		return err
	}
	if !ok {
		return storage.UnknownIndex(index)
	}
	return nil
}

func (s *Store) requireCollection(ctx context.Context, index, coll string) error {
	ok, err := s.CollectionExists(ctx, index, coll)
	if err != nil {
		return err
	}
	if !ok {
		return s.missingCollection(ctx, index, coll)
	}
	return nil
}

// missingCollection returns unknown_index or unknown_collection for a
// collection found missing.
func (s *Store) missingCollection(ctx context.Context, index, coll string) error {
	ok, err := s.IndexExists(ctx, index)
	if err != nil {
		return err
	}
	if !ok {
		return storage.UnknownIndex(index)
	}
	return storage.UnknownCollection(index, coll)
}
