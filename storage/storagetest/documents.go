package storagetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/storage"
)

func testDocumentCRUD(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	const index, coll = "sct-crud", "docs"
	setup(t, s, index, coll)
	wo := storage.WriteOptions{Refresh: storage.RefreshWaitFor}

	// An empty id is refused before reaching the backend.
	_, err := s.Get(ctx, index, coll, "")
	requireStorageError(t, err, storage.ErrInvalidArgument, "services.storage.invalid_argument")
	_, err = s.Update(ctx, index, coll, "", map[string]any{"a": 1}, storage.UpdateOptions{})
	requireStorageError(t, err, storage.ErrInvalidArgument, "services.storage.invalid_argument")
	_, err = s.Delete(ctx, index, coll, "", wo)
	requireStorageError(t, err, storage.ErrInvalidArgument, "services.storage.invalid_argument")
	_, _, err = s.CreateOrReplace(ctx, index, coll, "", map[string]any{}, wo)
	requireStorageError(t, err, storage.ErrInvalidArgument, "services.storage.invalid_argument")

	doc, err := s.Create(ctx, index, coll, "alice", map[string]any{"name": "Alice", "age": 30, "info": map[string]any{"rank": 1, "team": "red"}}, wo)
	require.NoError(t, err)
	require.Equal(t, "alice", doc.ID)
	require.EqualValues(t, 1, doc.Version)
	require.Equal(t, "Alice", doc.Source["name"])

	got, err := s.Get(ctx, index, coll, "alice")
	require.NoError(t, err)
	require.EqualValues(t, 1, got.Version)
	require.Equal(t, "Alice", got.Source["name"])
	require.EqualValues(t, 30, num(got.Source["age"]))

	_, err = s.Create(ctx, index, coll, "alice", map[string]any{"name": "Other"}, wo)
	requireStorageError(t, err, storage.ErrDocumentAlreadyExists, "services.storage.document_already_exists")

	gen, err := s.Create(ctx, index, coll, "", map[string]any{"name": "Generated"}, wo)
	require.NoError(t, err)
	require.NotEmpty(t, gen.ID)
	got, err = s.Get(ctx, index, coll, gen.ID)
	require.NoError(t, err)
	require.Equal(t, "Generated", got.Source["name"])

	doc, created, err := s.CreateOrReplace(ctx, index, coll, "bob", map[string]any{"name": "Bob"}, wo)
	require.NoError(t, err)
	require.True(t, created)
	require.EqualValues(t, 1, doc.Version)
	doc, created, err = s.CreateOrReplace(ctx, index, coll, "bob", map[string]any{"name": "Bobby"}, wo)
	require.NoError(t, err)
	require.False(t, created)
	require.EqualValues(t, 2, doc.Version)

	doc, err = s.Replace(ctx, index, coll, "bob", map[string]any{"city": "Paris"}, wo)
	require.NoError(t, err)
	require.EqualValues(t, 3, doc.Version)
	got, err = s.Get(ctx, index, coll, "bob")
	require.NoError(t, err)
	require.Equal(t, map[string]any{"city": "Paris"}, got.Source, "replace drops old fields")
	_, err = s.Replace(ctx, index, coll, "nobody", map[string]any{"a": 1}, wo)
	requireStorageError(t, err, storage.ErrDocumentNotFound, "services.storage.not_found")

	doc, err = s.Update(ctx, index, coll, "alice", map[string]any{"age": 31, "info": map[string]any{"rank": 2}}, storage.UpdateOptions{Refresh: storage.RefreshWaitFor})
	require.NoError(t, err)
	require.EqualValues(t, 2, doc.Version)
	require.Equal(t, "Alice", doc.Source["name"], "update returns the full document")
	require.EqualValues(t, 31, num(doc.Source["age"]))
	require.Equal(t, "red", doc.Source["info"].(map[string]any)["team"], "objects merge recursively")
	require.EqualValues(t, 2, num(doc.Source["info"].(map[string]any)["rank"]))
	_, err = s.Update(ctx, index, coll, "nobody", map[string]any{"a": 1}, storage.UpdateOptions{})
	requireStorageError(t, err, storage.ErrDocumentNotFound, "services.storage.not_found")

	doc, created, err = s.Upsert(ctx, index, coll, "carol", map[string]any{"age": 40}, map[string]any{"name": "Carol", "age": 1}, storage.UpdateOptions{Refresh: storage.RefreshWaitFor})
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, "Carol", doc.Source["name"])
	require.EqualValues(t, 40, num(doc.Source["age"]), "changes win over defaults")
	doc, created, err = s.Upsert(ctx, index, coll, "carol", map[string]any{"age": 41}, map[string]any{"name": "Ignored"}, storage.UpdateOptions{Refresh: storage.RefreshWaitFor})
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, "Carol", doc.Source["name"])
	require.EqualValues(t, 41, num(doc.Source["age"]))
	require.EqualValues(t, 2, doc.Version)

	ok, err := s.Exists(ctx, index, coll, "carol")
	require.NoError(t, err)
	require.True(t, ok)

	doc, err = s.Delete(ctx, index, coll, "carol", wo)
	require.NoError(t, err)
	require.Equal(t, "carol", doc.ID)
	require.Equal(t, "Carol", doc.Source["name"], "delete returns the deleted document")

	ok, err = s.Exists(ctx, index, coll, "carol")
	require.NoError(t, err)
	require.False(t, ok)
	_, err = s.Get(ctx, index, coll, "carol")
	requireStorageError(t, err, storage.ErrDocumentNotFound, "services.storage.not_found")
	var se *storage.Error
	require.ErrorAs(t, err, &se)
	require.Equal(t, []string{"carol", index, coll}, se.Props)
	_, err = s.Delete(ctx, index, coll, "carol", wo)
	requireStorageError(t, err, storage.ErrDocumentNotFound, "services.storage.not_found")
}

func testMGet(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	const index, coll = "sct-mget", "docs"
	setup(t, s, index, coll)
	wo := storage.WriteOptions{}
	for _, id := range []string{"a", "b", "c"} {
		_, err := s.Create(ctx, index, coll, id, map[string]any{"name": id}, wo)
		require.NoError(t, err)
	}
	found, missing, err := s.MGet(ctx, index, coll, []string{"c", "x", "a"})
	require.NoError(t, err)
	require.Equal(t, []string{"c", "a"}, ids(found))
	require.Equal(t, "c", found[0].Source["name"])
	require.EqualValues(t, 1, found[0].Version)
	require.Equal(t, []string{"x"}, missing)
}

func testBulk(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	const index, coll = "sct-bulk", "docs"
	setup(t, s, index, coll)
	wo := storage.WriteOptions{Refresh: storage.RefreshWaitFor}
	uo := storage.UpdateOptions{Refresh: storage.RefreshWaitFor}

	_, err := s.Create(ctx, index, coll, "b", map[string]any{"name": "old"}, wo)
	require.NoError(t, err)

	res, err := s.MCreate(ctx, index, coll, []storage.BulkItem{
		{ID: "a", Source: map[string]any{"name": "A"}},
		{ID: "b", Source: map[string]any{"name": "B"}},
		{ID: "c", Source: map[string]any{"name": "C"}},
	}, wo)
	require.NoError(t, err)
	require.Equal(t, []string{"a", "c"}, successIDs(res))
	require.True(t, res.Successes[0].Created)
	require.EqualValues(t, 1, res.Successes[0].Version)
	require.Equal(t, "A", res.Successes[0].Source["name"])
	require.Len(t, res.Errors, 1)
	require.Equal(t, "b", res.Errors[0].ID)
	require.Equal(t, "B", res.Errors[0].Source["name"])
	requireStorageError(t, res.Errors[0].Err, storage.ErrDocumentAlreadyExists, "services.storage.document_already_exists")

	res, err = s.MCreateOrReplace(ctx, index, coll, []storage.BulkItem{
		{ID: "a", Source: map[string]any{"name": "A2"}},
		{ID: "d", Source: map[string]any{"name": "D"}},
	}, wo)
	require.NoError(t, err)
	require.Empty(t, res.Errors)
	require.Equal(t, []string{"a", "d"}, successIDs(res))
	require.False(t, res.Successes[0].Created)
	require.EqualValues(t, 2, res.Successes[0].Version)
	require.True(t, res.Successes[1].Created)

	res, err = s.MReplace(ctx, index, coll, []storage.BulkItem{
		{ID: "x", Source: map[string]any{"name": "X"}},
		{ID: "c", Source: map[string]any{"city": "Lyon"}},
	}, wo)
	require.NoError(t, err)
	require.Equal(t, []string{"c"}, successIDs(res))
	require.Len(t, res.Errors, 1)
	require.Equal(t, "x", res.Errors[0].ID)
	requireStorageError(t, res.Errors[0].Err, storage.ErrDocumentNotFound, "services.storage.not_found")

	res, err = s.MUpdate(ctx, index, coll, []storage.BulkItem{
		{ID: "c", Source: map[string]any{"age": 7}},
		{ID: "y", Source: map[string]any{"age": 8}},
	}, uo)
	require.NoError(t, err)
	require.Equal(t, []string{"c"}, successIDs(res))
	require.Equal(t, "Lyon", res.Successes[0].Source["city"])
	require.EqualValues(t, 7, num(res.Successes[0].Source["age"]))
	require.Len(t, res.Errors, 1)
	require.Equal(t, "y", res.Errors[0].ID)
	requireStorageError(t, res.Errors[0].Err, storage.ErrDocumentNotFound, "services.storage.not_found")

	res, err = s.MUpsert(ctx, index, coll, []storage.UpsertItem{
		{ID: "c", Changes: map[string]any{"age": 9}},
		{ID: "e", Changes: map[string]any{"age": 5}, Defaults: map[string]any{"name": "E"}},
	}, uo)
	require.NoError(t, err)
	require.Empty(t, res.Errors)
	require.Equal(t, []string{"c", "e"}, successIDs(res))
	require.False(t, res.Successes[0].Created)
	require.True(t, res.Successes[1].Created)
	require.Equal(t, "E", res.Successes[1].Source["name"])

	res, err = s.MDelete(ctx, index, coll, []string{"a", "zz", "e"}, wo)
	require.NoError(t, err)
	require.Equal(t, []string{"a", "e"}, successIDs(res))
	require.Len(t, res.Errors, 1)
	require.Equal(t, "zz", res.Errors[0].ID)
	requireStorageError(t, res.Errors[0].Err, storage.ErrDocumentNotFound, "services.storage.not_found")

	found, missing, err := s.MGet(ctx, index, coll, []string{"a", "b", "c", "d", "e"})
	require.NoError(t, err)
	require.Equal(t, []string{"b", "c", "d"}, ids(found))
	require.Equal(t, []string{"a", "e"}, missing)
	require.Equal(t, "old", found[0].Source["name"], "a failed create leaves the document alone")
}

// testSpecialIDs uses ids that need escaping in a URL path.
func testSpecialIDs(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	const index, coll = "sct-ids", "docs"
	setup(t, s, index, coll)
	const id = "a/b?c#d é%"
	doc, err := s.Create(ctx, index, coll, id, map[string]any{"name": "odd"}, storage.WriteOptions{})
	require.NoError(t, err)
	require.Equal(t, id, doc.ID)
	got, err := s.Get(ctx, index, coll, id)
	require.NoError(t, err)
	require.Equal(t, id, got.ID)
	require.Equal(t, "odd", got.Source["name"])
	_, err = s.Get(ctx, index, coll, "a")
	requireStorageError(t, err, storage.ErrDocumentNotFound, "services.storage.not_found")
	doc, err = s.Delete(ctx, index, coll, id, storage.WriteOptions{})
	require.NoError(t, err)
	require.Equal(t, id, doc.ID)
}
