package storage_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/storage"
)

func hits(srcs map[string]map[string]any, order ...string) []storage.Hit {
	out := make([]storage.Hit, len(order))
	for i, id := range order {
		out[i] = storage.Hit{Document: storage.Document{ID: id, Source: srcs[id]}}
	}
	return out
}

func TestSort(t *testing.T) {
	srcs := map[string]map[string]any{
		"a": {"n": float64(2), "s": "x", "multi": []any{float64(5), float64(1)}},
		"b": {"n": float64(1), "s": "y", "multi": []any{float64(3)}},
		"c": {"s": "x"},
		"d": {"n": float64(2), "s": "w"},
	}
	cases := []struct {
		desc, sort string
		want       []string
	}{
		{"none sorts by id", ``, []string{"a", "b", "c", "d"}},
		{"string field", `"n"`, []string{"b", "a", "d", "c"}},
		{"object order", `{"n":"desc"}`, []string{"a", "d", "b", "c"}},
		{"object with order key", `{"n":{"order":"desc"}}`, []string{"a", "d", "b", "c"}},
		{"two criteria", `[{"n":"desc"},{"s":"asc"}]`, []string{"d", "a", "b", "c"}},
		{"multi-valued asc uses min", `"multi"`, []string{"a", "b", "c", "d"}},
		{"multi-valued desc uses max", `{"multi":"desc"}`, []string{"a", "b", "c", "d"}},
		{"_id desc", `{"_id":"desc"}`, []string{"d", "c", "b", "a"}},
	}
	for _, tc := range cases {
		fields, err := storage.CompileSort(json.RawMessage(tc.sort))
		require.NoError(t, err, tc.desc)
		h := hits(srcs, "d", "c", "b", "a")
		storage.SortHits(h, fields)
		var got []string
		for _, x := range h {
			got = append(got, x.ID)
		}
		require.Equal(t, tc.want, got, tc.desc)
	}
	for _, bad := range []string{`1`, `{"a":"up"}`, `{"a":1,"b":1}`, `[{"a":{"order":3}}]`} {
		_, err := storage.CompileSort(json.RawMessage(bad))
		require.ErrorIs(t, err, storage.ErrBadQuery, bad)
	}
}

func TestMergeDocument(t *testing.T) {
	dst := map[string]any{"a": float64(1), "o": map[string]any{"x": float64(1), "y": float64(2)}, "arr": []any{float64(1)}}
	got := storage.MergeDocument(dst, map[string]any{"o": map[string]any{"y": float64(3), "z": nil}, "arr": []any{float64(9)}, "b": "new"})
	require.Equal(t, map[string]any{
		"a": float64(1), "b": "new", "arr": []any{float64(9)},
		"o": map[string]any{"x": float64(1), "y": float64(3), "z": nil},
	}, got)
	require.Equal(t, float64(2), dst["o"].(map[string]any)["y"], "dst is not modified")
}

func TestTranslateKoncorde(t *testing.T) {
	cases := []struct{ desc, in, want string }{
		{"empty", `{}`, ``},
		{"equals", `{"equals":{"a":"x"}}`, `{"term":{"a":"x"}}`},
		{"in", `{"in":{"a":["x","y"]}}`, `{"terms":{"a":["x","y"]}}`},
		{"range", `{"range":{"a":{"gt":1}}}`, `{"range":{"a":{"gt":1}}}`},
		{"exists string", `{"exists":"a.b"}`, `{"exists":{"field":"a.b"}}`},
		{"exists object", `{"exists":{"field":"a"}}`, `{"exists":{"field":"a"}}`},
		{"exists with value", `{"exists":"tags[\"x\"]"}`, `{"bool":{"filter":[{"exists":{"field":"tags"}},{"range":{"tags":{"gte":"x","lte":"x"}}}]}}`},
		{"missing", `{"missing":"a"}`, `{"bool":{"must_not":[{"exists":{"field":"a"}}]}}`},
		{"ids", `{"ids":{"values":["1"]}}`, `{"ids":{"values":["1"]}}`},
		{"and", `{"and":[{"equals":{"a":1}},{"equals":{"b":2}}]}`, `{"bool":{"filter":[{"term":{"a":1}},{"term":{"b":2}}]}}`},
		{"or", `{"or":[{"equals":{"a":1}}]}`, `{"bool":{"should":[{"term":{"a":1}}]}}`},
		{"not", `{"not":{"equals":{"a":1}}}`, `{"bool":{"must_not":[{"term":{"a":1}}]}}`},
		{"geo", `{"geoDistance":{"loc":{"lat":1,"lon":2},"distance":"1km"}}`, `{"geo_distance":{"loc":{"lat":1,"lon":2},"distance":"1km"}}`},
		{"pass through", `{"regexp":{"a":"x.*"}}`, `{"regexp":{"a":"x.*"}}`},
	}
	for _, tc := range cases {
		got, err := storage.TranslateKoncorde(json.RawMessage(tc.in))
		require.NoError(t, err, tc.desc)
		if tc.want == "" {
			require.Empty(t, got, tc.desc)
			continue
		}
		require.JSONEq(t, tc.want, string(got), tc.desc)
	}
	errs := []struct{ desc, in, id string }{
		{"bool operator", `{"bool":{"must":[]}}`, "api.assert.koncorde_restricted_keyword"},
		{"equals not object", `{"equals":"x"}`, "api.assert.koncorde_dsl_error"},
		{"equals two fields", `{"equals":{"a":1,"b":2}}`, "api.assert.koncorde_dsl_error"},
		{"in empty", `{"in":{"a":[]}}`, "api.assert.koncorde_dsl_error"},
		{"and empty", `{"and":[]}`, "api.assert.koncorde_dsl_error"},
		{"two keywords", `{"equals":{"a":1},"exists":"b"}`, "api.assert.koncorde_dsl_error"},
		{"exists bad bracket", `{"exists":"a[1"}`, "api.assert.koncorde_dsl_error"},
		{"not JSON", `{`, "api.assert.koncorde_dsl_error"},
	}
	for _, tc := range errs {
		_, err := storage.TranslateKoncorde(json.RawMessage(tc.in))
		var se *storage.Error
		require.ErrorAs(t, err, &se, tc.desc)
		require.Equal(t, tc.id, se.ID, tc.desc)
		require.ErrorIs(t, err, storage.ErrBadQuery, tc.desc)
	}
}

func TestNames(t *testing.T) {
	for _, ok := range []string{"nyc-open-data", "a", "yellow_taxi", "été"} {
		require.NoError(t, storage.ValidateIndexName(ok), ok)
		require.NoError(t, storage.ValidateCollectionName(ok), ok)
	}
	for _, bad := range []string{"", "Upper", "a.b", "a:b", "a b", "a&b", "a%b", "a,b", "a*b", "_all", string(make([]byte, 127))} {
		require.ErrorIs(t, storage.ValidateIndexName(bad), storage.ErrInvalidName, bad)
	}
	var se *storage.Error
	require.ErrorAs(t, storage.ValidateCollectionName("_kuzzle_keep"), &se)
	require.Equal(t, "services.storage.collection_reserved", se.ID)
}

func TestMappings(t *testing.T) {
	in, err := storage.ParseMappings(json.RawMessage(`{"dynamic":false,"properties":{"a":{"type":"keyword"}}}`))
	require.NoError(t, err)
	m := storage.NewMappings(in)
	require.Equal(t, "false", m.Dynamic)
	upd, err := storage.ParseMappings(json.RawMessage(`{"_meta":{"v":2},"properties":{"b":{"type":"integer"}}}`))
	require.NoError(t, err)
	m = m.Apply(upd)
	require.Equal(t, "false", m.Dynamic, "dynamic is kept when not given")
	require.Equal(t, map[string]any{"v": float64(2)}, m.Meta)
	require.Len(t, m.Properties, 2)

	def, err := storage.ParseMappings(nil)
	require.NoError(t, err)
	require.Equal(t, storage.DefaultDynamic, storage.NewMappings(def).Dynamic)

	for _, bad := range []string{`{"dynamic":"maybe"}`, `{"dynamic":1}`, `{"props":{}}`, `[]`} {
		_, err := storage.ParseMappings(json.RawMessage(bad))
		require.ErrorIs(t, err, storage.ErrInvalidArgument, bad)
	}
}

func TestErrors(t *testing.T) {
	err := storage.NotFound("i", "c", "d")
	require.ErrorIs(t, err, storage.ErrDocumentNotFound)
	require.NotErrorIs(t, err, storage.ErrUnknownIndex)
	require.Equal(t, []string{"d", "i", "c"}, err.Props)
	require.True(t, storage.IsKind(err, storage.ErrDocumentNotFound))
	cause := json.Unmarshal([]byte("{"), new(any))
	u := storage.Unexpected(cause)
	require.ErrorIs(t, u, cause)
	require.ErrorIs(t, u, storage.ErrUnexpected)
	require.Contains(t, u.Error(), "services.storage.unexpected_error")
}
