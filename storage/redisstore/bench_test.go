package redisstore_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
	"github.com/streamcluster/streamcluster/storage"
	"github.com/streamcluster/streamcluster/storage/redisstore"
)

func benchStore(b *testing.B, docs int) *redisstore.Store {
	b.Helper()
	st, err := redisstore.New(redisstore.Config{Client: newClient(b), Prefix: rediscluster.UniquePrefix(b)})
	require.NoError(b, err)
	ctx := b.Context()
	require.NoError(b, st.CreateIndex(ctx, "i"))
	require.NoError(b, st.CreateCollection(ctx, "i", "c", nil))
	items := make([]storage.BulkItem, docs)
	for n := range items {
		items[n] = storage.BulkItem{ID: fmt.Sprint(n), Source: map[string]any{"n": n, "city": fmt.Sprint("city-", n%10), "name": fmt.Sprint("doc ", n)}}
	}
	for start := 0; start < len(items); start += 500 {
		res, err := st.MCreate(ctx, "i", "c", items[start:min(start+500, len(items))], storage.WriteOptions{})
		require.NoError(b, err)
		require.Empty(b, res.Errors)
	}
	return st
}

func BenchmarkCreate(b *testing.B) {
	st := benchStore(b, 0)
	src := map[string]any{"name": "x", "n": 1}
	for b.Loop() {
		if _, err := st.Create(b.Context(), "i", "c", "", src, storage.WriteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	st := benchStore(b, 100)
	for b.Loop() {
		if _, err := st.Get(b.Context(), "i", "c", "42"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpdate(b *testing.B) {
	st := benchStore(b, 100)
	for b.Loop() {
		if _, err := st.Update(b.Context(), "i", "c", "42", map[string]any{"n": 1}, storage.UpdateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMCreate100(b *testing.B) {
	st := benchStore(b, 0)
	items := make([]storage.BulkItem, 100)
	for n := range items {
		items[n] = storage.BulkItem{Source: map[string]any{"n": n}}
	}
	for b.Loop() {
		if _, err := st.MCreate(b.Context(), "i", "c", items, storage.WriteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSearch1k and BenchmarkSearch10k run a term query with a sort:
// the whole collection is read and filtered in Go.
func BenchmarkSearch1k(b *testing.B)  { benchSearch(b, 1000) }
func BenchmarkSearch10k(b *testing.B) { benchSearch(b, 10000) }

func benchSearch(b *testing.B, docs int) {
	st := benchStore(b, docs)
	req := storage.SearchRequest{Query: storage.Query{Body: json.RawMessage(`{"term":{"city":"city-3"}}`)}, Sort: json.RawMessage(`{"n":"desc"}`), Size: 10}
	for b.Loop() {
		res, err := st.Search(b.Context(), "i", "c", req)
		if err != nil || res.Total != docs/10 {
			b.Fatal(err, res.Total)
		}
	}
}

func BenchmarkMUpdate100(b *testing.B) {
	st := benchStore(b, 100)
	items := make([]storage.BulkItem, 100)
	for n := range items {
		items[n] = storage.BulkItem{ID: fmt.Sprint(n), Source: map[string]any{"m": n}}
	}
	for b.Loop() {
		res, err := st.MUpdate(b.Context(), "i", "c", items, storage.UpdateOptions{})
		if err != nil || len(res.Errors) > 0 {
			b.Fatal(err, res.Errors)
		}
	}
}
