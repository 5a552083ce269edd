//go:build !race

package koncorde

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHotPathDoesNotAllocate: testing a document against equals, range,
// exists and geo conditions allocates nothing once the engine is warm, in
// both field-lookup and document-walk modes.
func TestHotPathDoesNotAllocate(t *testing.T) {
	for _, lookupMax := range []int{fieldLookupMax, -1} {
		e := NewEngine(DefaultConfig())
		e.lookupMax = lookupMax
		for _, src := range []string{
			`{"equals":{"user":"u1"}}`,
			`{"and":[{"equals":{"category":"c1"}},{"range":{"price":{"gte":10,"lt":20}}}]}`,
			`{"not":{"range":{"price":{"gt":100}}}}`,
			`{"in":{"status":["a","b"]}}`,
			`{"exists":"meta.k1"}`,
			`{"missing":"meta.k2"}`,
			`{"not":{"equals":{"status":"c"}}}`,
			`{"geoDistance":{"location":{"lat":1,"lon":2},"distance":"100km"}}`,
		} {
			f, err := Normalize(DefaultConfig(), "i", "c", json.RawMessage(src))
			require.NoError(t, err)
			e.Register(f)
		}
		doc := map[string]any{
			"user": "u1", "category": "c1", "price": 15.0, "status": "a",
			"meta":     map[string]any{"k1": 1.0},
			"location": map[string]any{"lat": 1.1, "lon": 2.0},
		}
		buf := make([]string, 0, 16)
		buf = e.TestAppend(buf[:0], "i", "c", doc, "doc-1")
		require.Len(t, buf, 8)
		allocs := testing.AllocsPerRun(200, func() {
			buf = e.TestAppend(buf[:0], "i", "c", doc, "doc-1")
		})
		require.Zero(t, allocs, "lookupMax %d", lookupMax)
	}
}
