package elasticsearch

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/storage"
)

// TestMapESError checks the Elasticsearch → Kuzzle error mapping, after
// Kuzzle's esWrapper.
func TestMapESError(t *testing.T) {
	f := false
	cases := []struct {
		desc   string
		status int
		err    esError
		found  *bool
		id     string
		props  []string
	}{
		{"ES 8 unknown query", 400, esError{Type: "parsing_exception", Reason: "unknown query [equals]"}, nil, "services.storage.unknown_query_keyword", []string{"equals"}},
		{"older unknown query", 400, esError{Type: "parsing_exception", Reason: "no [query] registered for [equals]"}, nil, "services.storage.unknown_query_keyword", []string{"equals"}},
		{"malformed query", 400, esError{Type: "parsing_exception", Reason: "[and] query malformed, no start_object after query name"}, nil, "services.storage.unknown_query_keyword", []string{"and"}},
		{"unknown key", 400, esError{Type: "parsing_exception", RootCause: []esError{{Reason: "Unknown key for a START_OBJECT in [term]."}}}, nil, "services.storage.invalid_search_query", []string{"term"}},
		{"already exists", 409, esError{Type: "version_conflict_engine_exception", Reason: "[d]: version conflict, document already exists (current version [1])"}, nil, "services.storage.document_already_exists", nil},
		{"version conflict", 409, esError{Type: "version_conflict_engine_exception", Reason: "[d]: version conflict, required seqNo [1], primary term [1]. current document has seqNo [2] and primary term [1]"}, nil, "services.storage.too_many_changes", []string{"d"}},
		{"document missing", 404, esError{Type: "document_missing_exception", Reason: "[d]: document missing"}, nil, "services.storage.not_found", []string{"d", "i", "c"}},
		{"get not found", 404, esError{}, &f, "services.storage.not_found", []string{"d", "i", "c"}},
		{"no such index", 404, esError{Type: "index_not_found_exception", Reason: "no such index [@&i.c]"}, nil, "services.storage.unknown_collection", []string{"i", "c"}},
		{"scroll expired", 404, esError{Type: "search_phase_execution_exception", RootCause: []esError{{Type: "search_context_missing_exception"}}}, nil, "services.storage.unknown_scroll_id", nil},
		{"other bad request", 400, esError{Type: "illegal_argument_exception", Reason: "bad", RootCause: []esError{{Reason: "root bad"}}}, nil, "services.storage.unexpected_bad_request", []string{"root bad"}},
		{"empty query ES 7", 400, esError{Type: "parsing_exception", Reason: "p", CausedBy: &esError{Type: "illegal_argument_exception", Reason: "query malformed, empty clause found"}}, nil, "services.storage.unexpected_bad_request", []string{"query malformed, empty clause found"}},
		{"other not found", 404, esError{Type: "resource_not_found_exception", Reason: "gone"}, nil, "services.storage.unexpected_not_found", []string{"gone"}},
		{"server error", 500, esError{Type: "x", Reason: "boom"}, nil, "services.storage.unexpected_error", []string{"status 500: x: boom"}},
	}
	for _, tc := range cases {
		err := mapESError(tc.status, tc.err, tc.found, "i", "c", "d")
		var se *storage.Error
		require.True(t, errors.As(err, &se), tc.desc)
		require.Equal(t, tc.id, se.ID, tc.desc)
		if tc.props != nil {
			require.Equal(t, tc.props, se.Props, tc.desc)
		}
	}
}

func TestConfig(t *testing.T) {
	_, err := New(Config{})
	require.ErrorIs(t, err, ErrBadConfig)
	st, err := New(Config{Addresses: []string{"http://127.0.0.1:1"}, Replicas: -1})
	require.NoError(t, err)
	require.Equal(t, 0, st.cfg.Replicas, "a negative Replicas means 0")
	require.Equal(t, DefaultShards, st.cfg.Shards)
	require.NoError(t, st.Close())
	require.NoError(t, st.Close(), "Close is idempotent")
	_, err = st.Get(t.Context(), "i", "c", "d")
	require.ErrorIs(t, err, ErrClosed)
}

func TestNames(t *testing.T) {
	require.Equal(t, "&nyc-open-data.yellow-taxi", indice("nyc-open-data", "yellow-taxi"))
	require.Equal(t, "@&nyc-open-data.yellow-taxi", alias("nyc-open-data", "yellow-taxi"))
	i, c, ok := splitAlias("@&nyc-open-data.yellow-taxi")
	require.True(t, ok)
	require.Equal(t, "nyc-open-data", i)
	require.Equal(t, "yellow-taxi", c)
	_, _, ok = splitAlias("@%kuzzle.users")
	require.False(t, ok, "private (internal) aliases are not ours")
	require.Equal(t, "/@&i.c/_doc/a%2Fb%3Fc%23d", path("@&i.c", "_doc", "a/b?c#d"), "ids are escaped")
}
