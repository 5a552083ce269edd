package storagetest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/storage"
)

func testIndexLifecycle(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)

	requireStorageError(t, s.CreateIndex(ctx, "Bad:Name"), storage.ErrInvalidName, "services.storage.invalid_index_name")

	require.NoError(t, s.CreateIndex(ctx, "sct-idx-a"))
	require.NoError(t, s.CreateIndex(ctx, "sct-idx-b"))
	requireStorageError(t, s.CreateIndex(ctx, "sct-idx-a"), storage.ErrIndexAlreadyExists, "services.storage.index_already_exists")

	ok, err := s.IndexExists(ctx, "sct-idx-a")
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = s.IndexExists(ctx, "sct-idx-none")
	require.NoError(t, err)
	require.False(t, ok)

	list, err := s.ListIndexes(ctx)
	require.NoError(t, err)
	require.Subset(t, list, []string{"sct-idx-a", "sct-idx-b"})
	require.NotContains(t, list, "sct-idx-none")

	require.NoError(t, s.DeleteIndex(ctx, "sct-idx-a"))
	ok, err = s.IndexExists(ctx, "sct-idx-a")
	require.NoError(t, err)
	require.False(t, ok)
	requireStorageError(t, s.DeleteIndex(ctx, "sct-idx-a"), storage.ErrUnknownIndex, "services.storage.unknown_index")

	deleted, err := s.MDeleteIndexes(ctx, []string{"sct-idx-b", "sct-idx-none"})
	require.NoError(t, err)
	require.Equal(t, []string{"sct-idx-b"}, deleted)
	list, err = s.ListIndexes(ctx)
	require.NoError(t, err)
	require.NotNil(t, list, "an empty list is [], not null, on the wire")
	require.NotContains(t, list, "sct-idx-b")
}

func testCollectionLifecycle(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	const index = "sct-coll"

	requireStorageError(t, s.CreateCollection(ctx, index, "c1", nil), storage.ErrUnknownIndex, "services.storage.unknown_index")
	require.NoError(t, s.CreateIndex(ctx, index))
	requireStorageError(t, s.CreateCollection(ctx, index, "Bad.Name", nil), storage.ErrInvalidName, "services.storage.invalid_collection_name")
	requireStorageError(t, s.CreateCollection(ctx, index, "c1", json.RawMessage(`{"propertiez":{}}`)), storage.ErrInvalidArgument, "services.storage.invalid_mapping")

	require.NoError(t, s.CreateCollection(ctx, index, "c1", json.RawMessage(`{"properties":{"name":{"type":"keyword"}}}`)))
	require.NoError(t, s.CreateCollection(ctx, index, "c2", nil))

	ok, err := s.CollectionExists(ctx, index, "c1")
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = s.CollectionExists(ctx, index, "nope")
	require.NoError(t, err)
	require.False(t, ok)

	list, err := s.ListCollections(ctx, index)
	require.NoError(t, err)
	require.Equal(t, []string{"c1", "c2"}, list)

	// Creating an existing collection updates its mappings, as in Kuzzle.
	require.NoError(t, s.CreateCollection(ctx, index, "c1", json.RawMessage(`{"properties":{"age":{"type":"integer"}}}`)))
	require.NoError(t, s.UpdateCollection(ctx, index, "c1", json.RawMessage(`{"dynamic":"strict","_meta":{"v":1}}`)))
	raw, err := s.GetMapping(ctx, index, "c1")
	require.NoError(t, err)
	var m struct {
		Dynamic    string                    `json:"dynamic"`
		Meta       map[string]any            `json:"_meta"`
		Properties map[string]map[string]any `json:"properties"`
	}
	require.NoError(t, json.Unmarshal(raw, &m))
	require.Equal(t, "strict", m.Dynamic)
	require.Equal(t, map[string]any{"v": float64(1)}, m.Meta)
	require.Equal(t, "keyword", m.Properties["name"]["type"])
	require.Equal(t, "integer", m.Properties["age"]["type"])
	require.NotContains(t, m.Properties, "_kuzzle_info", "Kuzzle's metadata mapping is hidden")

	requireStorageError(t, s.UpdateCollection(ctx, index, "nope", json.RawMessage(`{"dynamic":"true"}`)), storage.ErrUnknownCollection, "services.storage.unknown_collection")

	_, err = s.Create(ctx, index, "c2", "d1", map[string]any{"a": 1}, storage.WriteOptions{Refresh: storage.RefreshWaitFor})
	require.NoError(t, err)
	require.NoError(t, s.TruncateCollection(ctx, index, "c2"))
	require.NoError(t, s.RefreshCollection(ctx, index, "c2"))
	n, err := s.Count(ctx, index, "c2", storage.Query{})
	require.NoError(t, err)
	require.Zero(t, n)
	ok, err = s.CollectionExists(ctx, index, "c2")
	require.NoError(t, err)
	require.True(t, ok, "truncate keeps the collection")

	require.NoError(t, s.DeleteCollection(ctx, index, "c2"))
	ok, err = s.CollectionExists(ctx, index, "c2")
	require.NoError(t, err)
	require.False(t, ok)
	requireStorageError(t, s.DeleteCollection(ctx, index, "c2"), storage.ErrUnknownCollection, "services.storage.unknown_collection")
	list, err = s.ListCollections(ctx, index)
	require.NoError(t, err)
	require.Equal(t, []string{"c1"}, list)

	require.NoError(t, s.DeleteIndex(ctx, index))
	ok, err = s.CollectionExists(ctx, index, "c1")
	require.NoError(t, err)
	require.False(t, ok, "deleting an index deletes its collections")
}

func testMissing(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	const index = "sct-missing"
	wo := storage.WriteOptions{}

	_, err := s.Create(ctx, index, "c", "a", map[string]any{}, wo)
	requireStorageError(t, err, storage.ErrUnknownIndex, "services.storage.unknown_index")
	_, err = s.Get(ctx, index, "c", "a")
	requireStorageError(t, err, storage.ErrUnknownIndex, "services.storage.unknown_index")

	require.NoError(t, s.CreateIndex(ctx, index))
	_, err = s.Create(ctx, index, "c", "a", map[string]any{}, wo)
	requireStorageError(t, err, storage.ErrUnknownCollection, "services.storage.unknown_collection")
	_, err = s.Get(ctx, index, "c", "a")
	requireStorageError(t, err, storage.ErrUnknownCollection, "services.storage.unknown_collection")
	_, err = s.Search(ctx, index, "c", storage.SearchRequest{})
	requireStorageError(t, err, storage.ErrUnknownCollection, "services.storage.unknown_collection")
	_, err = s.MCreate(ctx, index, "c", []storage.BulkItem{{ID: "a"}}, wo)
	requireStorageError(t, err, storage.ErrUnknownCollection, "services.storage.unknown_collection")
	_, err = s.ListCollections(ctx, "sct-missing-none")
	requireStorageError(t, err, storage.ErrUnknownIndex, "services.storage.unknown_index")
}
