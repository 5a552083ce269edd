package storage_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/storage"
)

var doc = map[string]any{
	"name": "ann", "age": float64(25), "ok": true, "none": nil,
	"tags":  []any{"a", "b"},
	"info":  map[string]any{"rank": float64(3), "team": "red"},
	"items": []any{map[string]any{"n": float64(1)}, map[string]any{"n": float64(2)}},
}

func TestCompileQuery(t *testing.T) {
	cases := []struct {
		desc  string
		query string
		want  bool
	}{
		{"empty", ``, true},
		{"null", `null`, true},
		{"empty object", `{}`, true},
		{"match_all", `{"match_all":{}}`, true},
		{"term string", `{"term":{"name":"ann"}}`, true},
		{"term string miss", `{"term":{"name":"Ann"}}`, false},
		{"term number", `{"term":{"age":25}}`, true},
		{"term number vs string", `{"term":{"age":"25"}}`, false},
		{"term bool", `{"term":{"ok":true}}`, true},
		{"term value object", `{"term":{"name":{"value":"ann"}}}`, true},
		{"term array element", `{"term":{"tags":"b"}}`, true},
		{"term nested", `{"term":{"info.team":"red"}}`, true},
		{"term through array of objects", `{"term":{"items.n":2}}`, true},
		{"term _id", `{"term":{"_id":"doc1"}}`, true},
		{"term missing field", `{"term":{"nope":"x"}}`, false},
		{"terms", `{"terms":{"name":["bob","ann"]}}`, true},
		{"terms miss", `{"terms":{"name":["bob"]}}`, false},
		{"range inside", `{"range":{"age":{"gt":20,"lte":25}}}`, true},
		{"range gt excludes bound", `{"range":{"age":{"gt":25}}}`, false},
		{"range lt excludes bound", `{"range":{"age":{"lt":25}}}`, false},
		{"range strings", `{"range":{"name":{"gte":"a","lt":"b"}}}`, true},
		{"range wrong kind", `{"range":{"name":{"gte":1}}}`, false},
		{"range on array, one element fits", `{"range":{"items.n":{"gt":1}}}`, true},
		{"exists", `{"exists":{"field":"info.rank"}}`, true},
		{"exists null", `{"exists":{"field":"none"}}`, false},
		{"exists object", `{"exists":{"field":"info"}}`, false},
		{"ids", `{"ids":{"values":["x","doc1"]}}`, true},
		{"ids miss", `{"ids":{"values":["x"]}}`, false},
		{"bool must", `{"bool":{"must":[{"term":{"name":"ann"}},{"term":{"age":25}}]}}`, true},
		{"bool must one fails", `{"bool":{"must":[{"term":{"name":"ann"}},{"term":{"age":26}}]}}`, false},
		{"bool filter single", `{"bool":{"filter":{"term":{"name":"ann"}}}}`, true},
		{"bool must_not", `{"bool":{"must_not":{"term":{"name":"ann"}}}}`, false},
		{"bool should alone", `{"bool":{"should":[{"term":{"name":"x"}},{"term":{"age":25}}]}}`, true},
		{"bool should alone none", `{"bool":{"should":[{"term":{"name":"x"}}]}}`, false},
		{"bool should optional with must", `{"bool":{"must":{"term":{"age":25}},"should":[{"term":{"name":"x"}}]}}`, true},
		{"bool minimum_should_match", `{"bool":{"should":[{"term":{"name":"ann"}},{"term":{"age":1}}],"minimum_should_match":2}}`, false},
		{"bool empty", `{"bool":{}}`, true},
		{"match token", `{"match":{"info.team":"RED team"}}`, true},
		{"match and", `{"match":{"info.team":{"query":"red team","operator":"and"}}}`, false},
		{"match and all present", `{"match":{"tags":{"query":"b a","operator":"AND"}}}`, true},
		{"match none", `{"match":{"name":"bob"}}`, false},
		{"match number", `{"match":{"age":25}}`, true},
		{"match punctuation only", `{"match":{"name":"--"}}`, false},
	}
	for _, tc := range cases {
		m, err := storage.CompileQuery(json.RawMessage(tc.query))
		require.NoError(t, err, tc.desc)
		require.Equal(t, tc.want, m.Match("doc1", doc), tc.desc)
	}
}

func TestCompileQueryErrors(t *testing.T) {
	cases := []struct {
		desc, query, id string
	}{
		{"not an object", `[1]`, "services.storage.unexpected_bad_request"},
		{"two keywords", `{"term":{"a":1},"ids":{"values":[]}}`, "services.storage.unexpected_bad_request"},
		{"unknown keyword", `{"equals":{"a":1}}`, "services.storage.unknown_query_keyword"},
		{"unknown nested keyword", `{"bool":{"must":[{"prefix":{"a":"x"}}]}}`, "services.storage.unknown_query_keyword"},
		{"term two fields", `{"term":{"a":1,"b":2}}`, "services.storage.unexpected_bad_request"},
		{"term object without value", `{"term":{"a":{"x":1}}}`, "services.storage.unexpected_bad_request"},
		{"term array", `{"term":{"a":[1]}}`, "services.storage.unexpected_bad_request"},
		{"terms not array", `{"terms":{"a":1}}`, "services.storage.unexpected_bad_request"},
		{"range bad op", `{"range":{"a":{"near":1}}}`, "services.storage.unexpected_bad_request"},
		{"range bad bound", `{"range":{"a":{"gt":true}}}`, "services.storage.unexpected_bad_request"},
		{"exists no field", `{"exists":{}}`, "services.storage.unexpected_bad_request"},
		{"ids not strings", `{"ids":{"values":[1]}}`, "services.storage.unexpected_bad_request"},
		{"match bad operator", `{"match":{"a":{"query":"x","operator":"xor"}}}`, "services.storage.unexpected_bad_request"},
		{"match object without query", `{"match":{"a":{"x":1}}}`, "services.storage.unexpected_bad_request"},
		{"bool unknown occurrence", `{"bool":{"maybe":[]}}`, "services.storage.unexpected_bad_request"},
		{"bool negative msm", `{"bool":{"minimum_should_match":-1}}`, "services.storage.unexpected_bad_request"},
	}
	for _, tc := range cases {
		_, err := storage.CompileQuery(json.RawMessage(tc.query))
		require.ErrorIs(t, err, storage.ErrBadQuery, tc.desc)
		var se *storage.Error
		require.True(t, errors.As(err, &se), tc.desc)
		require.Equal(t, tc.id, se.ID, tc.desc)
	}
}

func TestCompileLang(t *testing.T) {
	m, err := storage.Compile("i", "c", storage.Query{Body: json.RawMessage(`{"equals":{"name":"ann"}}`), Lang: storage.LangKoncorde})
	require.NoError(t, err)
	require.True(t, m.Match("doc1", doc))
	_, err = storage.Compile("i", "c", storage.Query{Lang: "sql"})
	require.ErrorIs(t, err, storage.ErrInvalidArgument)
}

func FuzzCompileQuery(f *testing.F) {
	for _, s := range []string{`{"term":{"a":1}}`, `{"bool":{"must":[{"range":{"a":{"gt":1}}}]}}`, `{"ids":{"values":["a"]}}`, `{}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		m, err := storage.CompileQuery(json.RawMessage(q))
		if err != nil {
			if !errors.Is(err, storage.ErrBadQuery) {
				t.Fatalf("error is not ErrBadQuery: %v", err)
			}
			return
		}
		m.Match("doc1", doc) // must not panic
	})
}
