package storagetest

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/storage"
)

// Factory returns a store with an empty namespace for t. It registers its
// own cleanup with t.Cleanup.
type Factory func(t *testing.T) storage.Store

// Option tunes Run.
type Option func(*options)

type options struct {
	only map[string]bool
}

// Only runs just the named tests (see Names).
func Only(names ...string) Option {
	return func(o *options) {
		o.only = map[string]bool{}
		for _, n := range names {
			o.only[n] = true
		}
	}
}

type test struct {
	name string
	fn   func(t *testing.T, s storage.Store)
}

var tests = []test{
	{"IndexLifecycle", testIndexLifecycle},
	{"CollectionLifecycle", testCollectionLifecycle},
	{"DocumentCRUD", testDocumentCRUD},
	{"MissingIndexAndCollection", testMissing},
	{"MGet", testMGet},
	{"SpecialIDs", testSpecialIDs},
	{"Bulk", testBulk},
	{"Search", testSearch},
	{"SearchKoncorde", testSearchKoncorde},
	{"BadQuery", testBadQuery},
	{"Scroll", testScroll},
	{"ByQuery", testByQuery},
	{"ConcurrentUpdates", testConcurrentUpdates},
}

// Names returns the names of every test of the suite, in run order.
func Names() []string {
	out := make([]string, len(tests))
	for i, tc := range tests {
		out[i] = tc.name
	}
	return out
}

// Run runs the suite; every test gets a store from newStore.
func Run(t *testing.T, newStore Factory, opts ...Option) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.only != nil {
		for n := range o.only {
			require.True(t, slices.Contains(Names(), n), "storagetest: unknown test %q", n)
		}
	}
	for _, tc := range tests {
		if o.only != nil && !o.only[tc.name] {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// requireStorageError checks both the sentinel and the Kuzzle id.
func requireStorageError(t *testing.T, err error, kind error, id string) {
	t.Helper()
	require.ErrorIs(t, err, kind)
	var se *storage.Error
	require.ErrorAs(t, err, &se)
	require.Equal(t, id, se.ID)
}

// mappings used by the collections that are searched: Elasticsearch with
// Kuzzle's "dynamic": "false" only indexes mapped fields.
var testMappings = json.RawMessage(`{"properties":{
	"name":{"type":"keyword"},
	"city":{"type":"keyword"},
	"age":{"type":"integer"},
	"tags":{"type":"keyword"},
	"info":{"properties":{"rank":{"type":"integer"}}}}}`)

// setup creates index and collection with testMappings.
func setup(t *testing.T, s storage.Store, index, coll string) {
	t.Helper()
	ctx := ctxFor(t)
	require.NoError(t, s.CreateIndex(ctx, index))
	require.NoError(t, s.CreateCollection(ctx, index, coll, testMappings))
}

func ids(docs []storage.Document) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.ID
	}
	return out
}

func hitIDs(hits []storage.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

func successIDs(res storage.BulkResult) []string {
	out := make([]string, len(res.Successes))
	for i, s := range res.Successes {
		out[i] = s.ID
	}
	return out
}

// num normalises JSON numbers for comparisons.
func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int:
		return float64(x)
	case json.Number:
		f, _ := x.Float64()
		return f
	}
	return -1
}

var _ = assert.Equal
