package elasticsearch_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/streamcluster/streamcluster/storage"
	"github.com/streamcluster/streamcluster/storage/elasticsearch"
	"github.com/streamcluster/streamcluster/storage/storagetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorded lists, per Elasticsearch major version, the conformance tests
// that have a transcript in testdata/<version>/<Test>.http. The suite's
// ConcurrentUpdates has none: its request order is not deterministic.
var recorded = map[string][]string{
	"es8": {"IndexLifecycle", "CollectionLifecycle", "DocumentCRUD", "MissingIndexAndCollection", "MGet", "SpecialIDs", "Bulk", "Search", "SearchKoncorde", "BadQuery", "Scroll", "ByQuery"},
	"es7": {"BadQuery", "DocumentCRUD", "Bulk", "Search"},
}

func TestConformanceRecorded(t *testing.T) {
	for version, names := range recorded {
		t.Run(version, func(t *testing.T) {
			storagetest.Run(t, func(t *testing.T) storage.Store {
				file := filepath.Join("testdata", version, path.Base(t.Name())+".http")
				srv := newReplayServer(t, file)
				bodies := &bodyTracker{next: &http.Transport{}}
				st, err := elasticsearch.New(elasticsearch.Config{Addresses: []string{srv.URL}, Transport: bodies})
				require.NoError(t, err)
				t.Cleanup(func() {
					require.NoError(t, st.Close())
					require.Zero(t, bodies.open.Load(), "every response body is closed")
					require.NotZero(t, bodies.total.Load())
				})
				return st
			}, storagetest.Only(names...))
		})
	}
}

// TestConformanceLive runs the whole suite against a real cluster when
// SC_TEST_ES_URL is set (e.g. http://localhost:9200). It deletes the
// suite's indexes (names starting with "sct-") before each test.
func TestConformanceLive(t *testing.T) {
	addr := os.Getenv("SC_TEST_ES_URL")
	if addr == "" {
		t.Skip("SC_TEST_ES_URL is not set: no live Elasticsearch run")
	}
	storagetest.Run(t, func(t *testing.T) storage.Store {
		st, err := elasticsearch.New(elasticsearch.Config{Addresses: []string{addr}, Replicas: -1})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, st.Close()) })
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		all, err := st.ListIndexes(ctx)
		require.NoError(t, err)
		var ours []string
		for _, name := range all {
			if strings.HasPrefix(name, "sct-") {
				ours = append(ours, name)
			}
		}
		_, err = st.MDeleteIndexes(ctx, ours)
		require.NoError(t, err)
		return st
	})
}

func TestPing(t *testing.T) {
	for _, tc := range []struct {
		version string
		ok      bool
	}{{"es8", true}, {"es7", true}, {"es6", false}} {
		t.Run(tc.version, func(t *testing.T) {
			srv := newReplayServer(t, filepath.Join("testdata", tc.version, "Ping.http"))
			st, err := elasticsearch.New(elasticsearch.Config{Addresses: []string{srv.URL}, Transport: &http.Transport{}})
			require.NoError(t, err)
			defer st.Close()
			err = st.Ping(t.Context())
			if tc.ok {
				require.NoError(t, err)
				return
			}
			var se *storage.Error
			require.ErrorAs(t, err, &se)
			require.Equal(t, "services.storage.version_mismatch", se.ID)
			require.Equal(t, []string{"6.8.23"}, se.Props)
		})
	}
}

// bodyTracker counts response bodies not closed yet.
type bodyTracker struct {
	next        *http.Transport
	open, total atomic.Int64
}

func (b *bodyTracker) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := b.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	b.open.Add(1)
	b.total.Add(1)
	res.Body = &trackedBody{ReadCloser: res.Body, t: b}
	return res, nil
}

func (b *bodyTracker) CloseIdleConnections() { b.next.CloseIdleConnections() }

type trackedBody struct {
	io.ReadCloser
	t    *bodyTracker
	once sync.Once
}

func (tb *trackedBody) Close() error {
	tb.once.Do(func() { tb.t.open.Add(-1) })
	return tb.ReadCloser.Close()
}
