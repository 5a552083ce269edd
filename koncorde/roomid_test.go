package koncorde

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// The worked examples of the reference (kuzzle-api-and-cluster.md, C.4):
// Kuzzle's room ids, computed with Kuzzle's seed.
func TestRoomIDWorkedExamples(t *testing.T) {
	cases := []struct {
		desc, index, collection, filter, normalized, roomID string
	}{
		{"empty filter", "nyc-open-data", "yellow-taxi", `{}`,
			`[[{"everything":true}]]`, "508a79aa1dd1118a980a3cbeb403662fd5c4cd9885c632ea19c03d236f3cd110"},
		{"empty filter", "test-index", "test-collection", `{}`,
			`[[{"everything":true}]]`, "b16ab7fc0ac1ec9214d533c6409772985ff8415bdc12828db2b3305a54adcba4"},
		{"single equals", "test-index", "test-collection", `{"equals":{"foo":"barz"}}`,
			`[[{"equals":{"foo":"barz"},"not":false}]]`, "cf188c7c9e95269b65b8c93ec0ff40488f5d3a80e9792bb1132bca761b30055c"},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			f, err := Normalize(DefaultConfig(), c.index, c.collection, json.RawMessage(c.filter))
			require.NoError(t, err)
			require.Equal(t, c.normalized, string(f.NormalizedJSON()))
			require.Equal(t, c.roomID, f.RoomID())
			require.NotContains(t, f.RoomID(), "-")
			require.Equal(t, c.index, f.Index())
			require.Equal(t, c.collection, f.Collection())
		})
	}
	// A nil filter is the empty filter.
	f, err := Normalize(Config{}, "nyc-open-data", "yellow-taxi", nil)
	require.NoError(t, err)
	require.Equal(t, cases[0].roomID, f.RoomID())
}

func TestFilterJSONRoundTrip(t *testing.T) {
	filters := []string{
		`{}`,
		`{"equals":{"foo":"barz"}}`,
		`{"in":{"name":["a","b"]}}`,
		`{"missing":"foo.bar[\"baz\"]"}`,
		`{"bool":{"must":[{"range":{"age":{"gte":18,"lt":65}}}],"must_not":[{"regexp":{"name":{"value":"^x","flags":"i"}}}],"should":[{"exists":"a"},{"ids":{"values":["1","2"]}}]}}`,
		`{"geoDistance":{"loc":{"lat":43.6,"lon":3.9},"distance":"10km"}}`,
		`{"not":{"geoBoundingBox":{"loc":{"top":10,"left":0,"bottom":0,"right":10}}}}`,
		`{"geoPolygon":{"loc":{"points":[[0,0],[0,10],[10,0]]}}}`,
		`{"geoDistanceRange":{"loc":"u09tvqx","from":"1km","to":"3 mi"}}`,
		`{"match":{"tags":["a"],"info":{"x":1}}}`,
		`{"select":{"field":"arr","index":-1,"query":{"equals":{"value":3}}}}`,
		`{"and":[{"nothing":true},{"equals":{"a":1}}]}`,
	}
	for _, src := range filters {
		f, err := Normalize(DefaultConfig(), "idx", "col", json.RawMessage(src))
		require.NoError(t, err, src)
		data, err := json.Marshal(f)
		require.NoError(t, err)
		var g Filter
		require.NoError(t, json.Unmarshal(data, &g), string(data))
		require.Equal(t, f.RoomID(), g.RoomID(), src)
		require.Equal(t, string(f.NormalizedJSON()), string(g.NormalizedJSON()), src)
		require.Equal(t, "idx", g.Index())
		require.Equal(t, "col", g.Collection())

		// The decoded filter registers under the same room and matches alike.
		e := NewEngine(DefaultConfig())
		id, created := e.Register(&g)
		require.True(t, created)
		require.Equal(t, f.RoomID(), id)
		_, created = e.Register(f)
		require.False(t, created)
	}
}

func TestSeedChangesRoomID(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Seed = []byte("0123456789abcdef0123456789abcdef")
	f, err := Normalize(cfg, "test-index", "test-collection", json.RawMessage(`{}`))
	require.NoError(t, err)
	require.NotEqual(t, "b16ab7fc0ac1ec9214d533c6409772985ff8415bdc12828db2b3305a54adcba4", f.RoomID())
	g, err := UnmarshalFilter(cfg, mustJSON(t, f))
	require.NoError(t, err)
	require.Equal(t, f.RoomID(), g.RoomID())
}

func TestConfigValidate(t *testing.T) {
	require.NoError(t, DefaultConfig().Validate())
	require.NoError(t, Config{}.Validate())
	require.ErrorIs(t, Config{MaxConditions: -1}.Validate(), ErrInvalidConfig)
	require.ErrorIs(t, Config{Seed: []byte("short")}.Validate(), ErrInvalidConfig)
	_, err := Normalize(Config{Seed: []byte("short")}, "i", "c", nil)
	require.ErrorIs(t, err, ErrInvalidConfig)
}

func TestDSLErrors(t *testing.T) {
	cases := []struct{ filter, message string }{
		{`{"equals":{"foo":["bar"]}}`, `"equals.foo": must either be a string, a number, a boolean, or null`},
		{`{"foo":"bar"}`, `"foo": unknown keyword`},
		{`{"equals":{"a":1},"exists":"b"}`, `Invalid filter syntax. Filters must have one keyword only`},
		{`{"bool":{"filter":[]}}`, `"bool": "filter" is not an allowed attribute (allowed: must,must_not,should,should_not)`},
		{`{"geoDistance":{"loc":[1,2],"distance":"12"}}`, `unable to parse distance value "12"`},
		{`{"range":{"a":{"gt":3,"lt":1}}}`, `"range.a": lower boundary must be strictly inferior to the upper one`},
		{`{"and":[{"equals":{"a":1}},{"and":[]}]}`, `"and.and": cannot be empty`},
	}
	for _, c := range cases {
		_, err := Normalize(DefaultConfig(), "i", "c", json.RawMessage(c.filter))
		require.Error(t, err, c.filter)
		require.ErrorIs(t, err, ErrDSL, c.filter)
		require.Equal(t, c.message, err.Error(), c.filter)
		require.Equal(t, err.Error(), Validate(DefaultConfig(), json.RawMessage(c.filter)).Error())
	}

	// Kuzzle's limit: 100 conditions by default.
	var ors []string
	for i := 0; i < 101; i++ {
		ors = append(ors, `{"equals":{"f":`+jsNumberString(float64(i))+`}}`)
	}
	big := `{"or":[` + join(ors) + `]}`
	_, err := Normalize(DefaultConfig(), "i", "c", json.RawMessage(big))
	require.EqualError(t, err, "Filter too complex: exceeds the configured maximum number of conditions (conditions: 101, max: 100)")
	require.ErrorIs(t, err, ErrDSL)
	_, err = Normalize(Config{MaxConditions: 101}, "i", "c", json.RawMessage(big))
	require.NoError(t, err)

	// A product of ORs that would expand to 2^12 AND-groups is refused.
	var ands []string
	for i := 0; i < 12; i++ {
		ands = append(ands, `{"or":[{"equals":{"a`+jsNumberString(float64(i))+`":1}},{"exists":"b`+jsNumberString(float64(i))+`"}]}`)
	}
	_, err = Normalize(DefaultConfig(), "i", "c", json.RawMessage(`{"and":[`+join(ands)+`]}`))
	require.ErrorIs(t, err, ErrDSL)
	require.Contains(t, err.Error(), "Filter too complex")
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
