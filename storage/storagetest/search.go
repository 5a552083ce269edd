package storagetest

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/storage"
)

// people is the search dataset. p3 has an empty tags array and p6 no city.
var people = []storage.BulkItem{
	{ID: "p1", Source: map[string]any{"name": "ann", "city": "paris", "age": 25, "tags": []any{"a", "b"}, "info": map[string]any{"rank": 3}}},
	{ID: "p2", Source: map[string]any{"name": "ben", "city": "lyon", "age": 35, "tags": []any{"b"}, "info": map[string]any{"rank": 1}}},
	{ID: "p3", Source: map[string]any{"name": "cat", "city": "paris", "age": 45, "tags": []any{}, "info": map[string]any{"rank": 2}}},
	{ID: "p4", Source: map[string]any{"name": "dan", "city": "nice", "age": 18}},
	{ID: "p5", Source: map[string]any{"name": "eve", "city": "lyon", "age": 60, "tags": []any{"c"}, "info": map[string]any{"rank": 5}}},
	{ID: "p6", Source: map[string]any{"name": "fay", "age": 30}},
}

func seedPeople(t *testing.T, s storage.Store, index, coll string) {
	t.Helper()
	setup(t, s, index, coll)
	res, err := s.MCreate(ctxFor(t), index, coll, people, storage.WriteOptions{Refresh: storage.RefreshWaitFor})
	require.NoError(t, err)
	require.Empty(t, res.Errors)
	require.NoError(t, s.RefreshCollection(ctxFor(t), index, coll))
}

var byName = json.RawMessage(`[{"name":"asc"}]`)

func testSearch(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	const index, coll = "sct-search", "people"
	seedPeople(t, s, index, coll)

	cases := []struct {
		desc  string
		query string
		want  []string
	}{
		{"empty query matches all", ``, []string{"p1", "p2", "p3", "p4", "p5", "p6"}},
		{"match_all", `{"match_all":{}}`, []string{"p1", "p2", "p3", "p4", "p5", "p6"}},
		{"term", `{"term":{"city":"paris"}}`, []string{"p1", "p3"}},
		{"term with value", `{"term":{"city":{"value":"paris"}}}`, []string{"p1", "p3"}},
		{"term on array field", `{"term":{"tags":"b"}}`, []string{"p1", "p2"}},
		{"term on nested field", `{"term":{"info.rank":2}}`, []string{"p3"}},
		{"terms", `{"terms":{"city":["lyon","nice"]}}`, []string{"p2", "p4", "p5"}},
		{"range", `{"range":{"age":{"gte":30,"lt":50}}}`, []string{"p2", "p3", "p6"}},
		{"exists", `{"exists":{"field":"city"}}`, []string{"p1", "p2", "p3", "p4", "p5"}},
		{"exists ignores empty arrays", `{"exists":{"field":"tags"}}`, []string{"p1", "p2", "p5"}},
		{"ids", `{"ids":{"values":["p1","p4","zz"]}}`, []string{"p1", "p4"}},
		{"bool must and must_not", `{"bool":{"must":{"term":{"city":"paris"}},"must_not":[{"range":{"age":{"gt":40}}}]}}`, []string{"p1"}},
		{"bool should alone needs one", `{"bool":{"should":[{"term":{"city":"lyon"}},{"term":{"name":"dan"}}]}}`, []string{"p2", "p4", "p5"}},
		{"bool should is optional next to filter", `{"bool":{"filter":[{"range":{"age":{"gte":20}}}],"should":[{"term":{"city":"paris"}}]}}`, []string{"p1", "p2", "p3", "p5", "p6"}},
		{"bool minimum_should_match", `{"bool":{"should":[{"term":{"city":"lyon"}},{"range":{"age":{"gt":50}}},{"term":{"tags":"c"}}],"minimum_should_match":2}}`, []string{"p5"}},
		{"match", `{"match":{"city":"nice"}}`, []string{"p4"}},
	}
	for _, tc := range cases {
		res, err := s.Search(ctx, index, coll, storage.SearchRequest{
			Query: storage.Query{Body: json.RawMessage(tc.query)}, Sort: byName, Size: 100,
		})
		require.NoError(t, err, tc.desc)
		require.Equal(t, tc.want, hitIDs(res.Hits), tc.desc)
		require.Equal(t, len(tc.want), res.Total, tc.desc)
		require.Empty(t, res.ScrollID, tc.desc)
	}

	res, err := s.Search(ctx, index, coll, storage.SearchRequest{Sort: json.RawMessage(`{"age":"desc"}`), From: 1, Size: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"p3", "p2"}, hitIDs(res.Hits), "sort desc with from/size")
	require.Equal(t, 6, res.Total)
	require.Equal(t, index, res.Hits[0].Index)
	require.Equal(t, coll, res.Hits[0].Collection)
	require.Equal(t, "cat", res.Hits[0].Source["name"])
	require.EqualValues(t, 1, res.Hits[0].Version)

	res, err = s.Search(ctx, index, coll, storage.SearchRequest{Sort: json.RawMessage(`["city",{"age":{"order":"desc"}}]`)})
	require.NoError(t, err)
	require.Equal(t, []string{"p5", "p2", "p4", "p3", "p1", "p6"}, hitIDs(res.Hits), "multi-field sort, missing values last")

	res, err = s.Search(ctx, index, coll, storage.SearchRequest{Sort: byName, Size: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"p1", "p2"}, hitIDs(res.Hits), "size limits the page")
	require.Equal(t, 6, res.Total)

	n, err := s.Count(ctx, index, coll, storage.Query{Body: json.RawMessage(`{"term":{"city":"lyon"}}`)})
	require.NoError(t, err)
	require.Equal(t, 2, n)
	n, err = s.Count(ctx, index, coll, storage.Query{})
	require.NoError(t, err)
	require.Equal(t, 6, n)
}

func testSearchKoncorde(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	const index, coll = "sct-koncorde", "people"
	seedPeople(t, s, index, coll)

	cases := []struct {
		desc   string
		filter string
		want   []string
	}{
		{"equals", `{"equals":{"city":"paris"}}`, []string{"p1", "p3"}},
		{"in", `{"in":{"city":["lyon","nice"]}}`, []string{"p2", "p4", "p5"}},
		{"range", `{"range":{"age":{"gte":30,"lt":50}}}`, []string{"p2", "p3", "p6"}},
		{"exists", `{"exists":"city"}`, []string{"p1", "p2", "p3", "p4", "p5"}},
		{"ids", `{"ids":{"values":["p1","p4"]}}`, []string{"p1", "p4"}},
		{"and/not", `{"and":[{"range":{"age":{"gte":30}}},{"not":{"equals":{"city":"lyon"}}}]}`, []string{"p3", "p6"}},
		{"or", `{"or":[{"equals":{"name":"ann"}},{"equals":{"name":"fay"}}]}`, []string{"p1", "p6"}},
		{"missing", `{"missing":"city"}`, []string{"p6"}},
		{"not and", `{"not":{"and":[{"equals":{"city":"paris"}},{"range":{"age":{"lt":40}}}]}}`, []string{"p2", "p3", "p4", "p5", "p6"}},
	}
	for _, tc := range cases {
		res, err := s.Search(ctx, index, coll, storage.SearchRequest{
			Query: storage.Query{Body: json.RawMessage(tc.filter), Lang: storage.LangKoncorde}, Sort: byName, Size: 100,
		})
		require.NoError(t, err, tc.desc)
		require.Equal(t, tc.want, hitIDs(res.Hits), tc.desc)
		require.Equal(t, len(tc.want), res.Total, tc.desc)
	}
	n, err := s.Count(ctx, index, coll, storage.Query{Body: json.RawMessage(`{"equals":{"city":"lyon"}}`), Lang: storage.LangKoncorde})
	require.NoError(t, err)
	require.Equal(t, 2, n)

	_, err = s.Search(ctx, index, coll, storage.SearchRequest{Query: storage.Query{Body: json.RawMessage(`{"equals":"oops"}`), Lang: storage.LangKoncorde}})
	requireStorageError(t, err, storage.ErrBadQuery, "api.assert.koncorde_dsl_error")
	_, err = s.Search(ctx, index, coll, storage.SearchRequest{Query: storage.Query{Body: json.RawMessage(`{"bool":{"must":[{"equals":{"city":"paris"}}]}}`), Lang: storage.LangKoncorde}})
	requireStorageError(t, err, storage.ErrBadQuery, "api.assert.koncorde_restricted_keyword")
}

func testBadQuery(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	const index, coll = "sct-badquery", "people"
	setup(t, s, index, coll)

	_, err := s.Search(ctx, index, coll, storage.SearchRequest{Query: storage.Query{Body: json.RawMessage(`{"equals":{"city":"paris"}}`)}})
	requireStorageError(t, err, storage.ErrBadQuery, "services.storage.unknown_query_keyword")
	var se *storage.Error
	require.ErrorAs(t, err, &se)
	require.Equal(t, []string{"equals"}, se.Props)

	_, err = s.Count(ctx, index, coll, storage.Query{Body: json.RawMessage(`{"equals":{"city":"paris"}}`)})
	requireStorageError(t, err, storage.ErrBadQuery, "services.storage.unknown_query_keyword")
}

func testScroll(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	const index, coll = "sct-scroll", "people"
	seedPeople(t, s, index, coll)

	res, err := s.Search(ctx, index, coll, storage.SearchRequest{Sort: byName, Size: 4, Scroll: time.Minute})
	require.NoError(t, err)
	require.Equal(t, []string{"p1", "p2", "p3", "p4"}, hitIDs(res.Hits))
	require.Equal(t, 6, res.Total)
	require.NotEmpty(t, res.ScrollID)

	next, err := s.Scroll(ctx, res.ScrollID, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []string{"p5", "p6"}, hitIDs(next.Hits))
	require.Equal(t, 6, next.Total)
	require.Equal(t, index, next.Hits[0].Index)
	require.Equal(t, "eve", next.Hits[0].Source["name"])

	last, err := s.Scroll(ctx, next.ScrollID, time.Minute)
	require.NoError(t, err)
	require.Empty(t, last.Hits, "an exhausted cursor returns an empty page")

	_, err = s.Scroll(ctx, "bm9wZQ", time.Minute)
	requireStorageError(t, err, storage.ErrUnknownScrollID, "services.storage.unknown_scroll_id")
}

func testByQuery(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	const index, coll = "sct-byquery", "people"
	seedPeople(t, s, index, coll)
	wo := storage.WriteOptions{Refresh: storage.RefreshWaitFor}

	upd, err := s.UpdateByQuery(ctx, index, coll, storage.Query{Body: json.RawMessage(`{"term":{"city":"lyon"}}`)}, map[string]any{"info": map[string]any{"vip": true}}, wo)
	require.NoError(t, err)
	require.Empty(t, upd.Errors)
	require.ElementsMatch(t, []string{"p2", "p5"}, successIDs(upd))
	for _, d := range upd.Successes {
		require.Equal(t, true, d.Source["info"].(map[string]any)["vip"])
		require.NotNil(t, d.Source["info"].(map[string]any)["rank"], "the update merged")
		require.Equal(t, "lyon", d.Source["city"], "successes carry the full document")
	}

	deleted, err := s.DeleteByQuery(ctx, index, coll, storage.Query{Body: json.RawMessage(`{"range":{"age":{"lt":30}}}`)}, wo)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"p1", "p4"}, ids(deleted))
	for _, d := range deleted {
		require.NotEmpty(t, d.Source["name"], "deleted documents come back with their source")
	}
	require.NoError(t, s.RefreshCollection(ctx, index, coll))
	res, err := s.Search(ctx, index, coll, storage.SearchRequest{Sort: byName})
	require.NoError(t, err)
	require.Equal(t, []string{"p2", "p3", "p5", "p6"}, hitIDs(res.Hits))
}

// testConcurrentUpdates checks that versions increase atomically and that
// retryOnConflict lets concurrent partial updates all land.
func testConcurrentUpdates(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	const index, coll = "sct-concurrent", "docs"
	setup(t, s, index, coll)
	_, err := s.Create(ctx, index, coll, "counter", map[string]any{}, storage.WriteOptions{})
	require.NoError(t, err)

	const writers = 8
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			field := string(rune('a' + i))
			_, errs[i] = s.Update(ctx, index, coll, "counter", map[string]any{field: i}, storage.UpdateOptions{RetryOnConflict: 100})
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	doc, err := s.Get(ctx, index, coll, "counter")
	require.NoError(t, err)
	require.EqualValues(t, 1+writers, doc.Version)
	require.Len(t, doc.Source, writers, "no update was lost")

	// The same through concurrent bulk updates, with a duplicate id in
	// each batch.
	res, err := s.MCreate(ctx, index, coll, []storage.BulkItem{{ID: "m1", Source: map[string]any{}}, {ID: "m2", Source: map[string]any{}}}, storage.WriteOptions{})
	require.NoError(t, err)
	require.Empty(t, res.Errors)
	for i := range writers {
		wg.Go(func() {
			field := string(rune('a' + i))
			var r storage.BulkResult
			r, errs[i] = s.MUpdate(ctx, index, coll, []storage.BulkItem{
				{ID: "m1", Source: map[string]any{field: i}},
				{ID: "m2", Source: map[string]any{field: i}},
				{ID: "m1", Source: map[string]any{field + "2": i}},
			}, storage.UpdateOptions{RetryOnConflict: 100})
			if errs[i] == nil && len(r.Errors) > 0 {
				errs[i] = r.Errors[0].Err
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	found, _, err := s.MGet(ctx, index, coll, []string{"m1", "m2"})
	require.NoError(t, err)
	require.Len(t, found, 2)
	require.EqualValues(t, 1+2*writers, found[0].Version)
	require.Len(t, found[0].Source, 2*writers, "no bulk update was lost")
	require.EqualValues(t, 1+writers, found[1].Version)
	require.Len(t, found[1].Source, writers)
}
