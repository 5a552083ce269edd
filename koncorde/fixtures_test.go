package koncorde

import (
	"encoding/json"
	"os"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

// testdata/koncorde-suite.json holds the cases of the kuzzleio/koncorde test
// suite as data: every call a test made to the library (validate,
// normalize, register, test, remove, ...) with the library's answer, recorded
// against the koncorde npm package with Kuzzle's seed (see
// bench/koncorde-js/record-fixtures.js). These tests replay them.

type suiteFile struct {
	Source string      `json:"source"`
	Cases  []suiteCase `json:"cases"`
}

type suiteCase struct {
	Name string    `json:"name"`
	File string    `json:"file"`
	Ops  []suiteOp `json:"ops"`
}

type suiteOp struct {
	Op            string          `json:"op"`
	MaxConditions int             `json:"maxConditions"`
	Filter        json.RawMessage `json:"filter"`
	RawIndex      json.RawMessage `json:"index"`
	Index         *string         `json:"-"`
	ID            string          `json:"id"`
	Normalized    json.RawMessage `json:"normalized"`
	Doc           map[string]any  `json:"doc"`
	Result        json.RawMessage `json:"result"`
	Input         json.RawMessage `json:"input"`
	Error         *struct {
		Message string `json:"message"`
		Keyword string `json:"keyword"`
		Path    string `json:"path"`
	} `json:"error"`
}

func loadSuite(t testing.TB, name string) suiteFile {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	var s suiteFile
	require.NoError(t, json.Unmarshal(data, &s))
	require.NotEmpty(t, s.Cases)
	return s
}

// hashWithKoncordeIndex computes Koncorde's id for a raw Koncorde index
// (nil is JavaScript's null, Koncorde's default index).
func hashWithKoncordeIndex(seed []byte, f *Filter, index *string) string {
	if index != nil {
		return hashFilter(seed, f.dnfJSON, *index)
	}
	msg := []byte(`{"filter":`)
	msg = append(msg, f.dnfJSON...)
	msg = append(msg, `,"index":null}`...)
	return hmacHex(seed, msg)
}

func fixtureIndex(i *string) string {
	if i == nil {
		return "\x00default"
	}
	return *i
}

func stableOf(t testing.TB, raw json.RawMessage) string {
	t.Helper()
	v, err := parseJSON(raw)
	require.NoError(t, err)
	return string(v.stableJSON(nil))
}

func TestKoncordeSuiteFixtures(t *testing.T) {
	suite := loadSuite(t, "koncorde-suite.json")
	engines := map[string]func(Config) matcher{
		"engine":    func(c Config) matcher { return NewEngine(c) },
		"reference": func(c Config) matcher { return newRefEngine() },
	}
	for name, mk := range engines {
		t.Run(name, func(t *testing.T) {
			idsExact, idsTotal := 0, 0
			for _, c := range suite.Cases {
				t.Run(c.File+"/"+c.Name, func(t *testing.T) {
					cfg := DefaultConfig()
					e := mk(cfg)
					ids := map[string]string{} // Koncorde id -> our room id
					back := map[string]string{}
					pending := map[string]*Filter{}
					for i, op := range c.Ops {
						if len(op.RawIndex) > 0 && string(op.RawIndex) != "null" {
							var idx string
							if json.Unmarshal(op.RawIndex, &idx) != nil {
								// A non-string index: a JavaScript argument type
								// check with no Go equivalent.
								continue
							}
							op.Index = &idx
						}
						switch op.Op {
						case "new":
							cfg = DefaultConfig()
							cfg.MaxConditions = op.MaxConditions
							e = mk(cfg)
							ids, back = map[string]string{}, map[string]string{}
						case "validate":
							err := Validate(cfg, op.Filter)
							if op.Error != nil {
								require.Error(t, err, "op %d: %s", i, op.Filter)
								require.Equal(t, op.Error.Message, err.Error(), "op %d: %s", i, op.Filter)
								var de *DSLError
								require.ErrorAs(t, err, &de)
								require.Equal(t, op.Error.Path, de.Path)
							} else {
								require.NoError(t, err, "op %d: %s", i, op.Filter)
							}
						case "normalize", "register":
							f, err := Normalize(cfg, fixtureIndex(op.Index), "", op.Filter)
							if op.Error != nil {
								require.Error(t, err, "op %d: %s", i, op.Filter)
								require.Equal(t, op.Error.Message, err.Error(), "op %d: %s", i, op.Filter)
								continue
							}
							require.NoError(t, err, "op %d: %s", i, op.Filter)
							if op.Normalized != nil {
								require.Equal(t, stableOf(t, op.Normalized), string(f.dnfJSON), "op %d: %s", i, op.Filter)
							}
							idsTotal++
							if hashWithKoncordeIndex(cfg.withDefaults().Seed, f, op.Index) == op.ID {
								idsExact++
							} else {
								t.Logf("room id differs from Koncorde's for %s: normalized %s", op.Filter, f.dnfJSON)
							}
							ids[op.ID] = f.RoomID()
							back[f.RoomID()] = op.ID
							if op.Op == "register" {
								e.Register(f)
							} else {
								pending[op.ID] = f
							}
						case "store":
							f := pending[op.ID]
							require.NotNil(t, f, "op %d: store of an unknown normalized filter", i)
							e.Register(f)
						case "test":
							got := e.Test(fixtureIndex(op.Index), "", op.Doc, "")
							var want []string
							require.NoError(t, json.Unmarshal(op.Result, &want))
							var mapped []string
							for _, g := range got {
								mapped = append(mapped, back[g])
							}
							sort.Strings(mapped)
							sort.Strings(want)
							require.Equal(t, nonNil(want), nonNil(mapped), "op %d: doc %v", i, op.Doc)
						case "remove":
							// Koncorde's remove(id, index) ignores an id from another index.
							rid := ids[op.ID]
							for _, r := range e.Rooms(fixtureIndex(op.Index), "") {
								if r == rid {
									e.Remove(rid)
								}
							}
						case "getFilterIds":
							var want []string
							require.NoError(t, json.Unmarshal(op.Result, &want))
							var mapped []string
							for _, g := range e.Rooms(fixtureIndex(op.Index), "") {
								mapped = append(mapped, back[g])
							}
							sort.Strings(mapped)
							sort.Strings(want)
							require.Equal(t, nonNil(want), nonNil(mapped), "op %d", i)
						case "hasFilterId":
							var want bool
							require.NoError(t, json.Unmarshal(op.Result, &want))
							rid, ok := ids[op.ID]
							require.Equal(t, want, ok && e.Has(rid), "op %d", i)
						case "convertGeopoint":
							in, err := parseJSON(op.Input)
							require.NoError(t, err)
							got, ok := convertGeopoint(in)
							var want *struct{ Lat, Lon float64 }
							require.NoError(t, json.Unmarshal(op.Result, &want))
							if want == nil {
								require.False(t, ok, "op %d: %s", i, op.Input)
							} else {
								require.True(t, ok, "op %d: %s", i, op.Input)
								require.InDelta(t, want.Lat, got.lat, 1e-9)
								require.InDelta(t, want.Lon, got.lon, 1e-9)
							}
						default:
							t.Fatalf("unknown op %q", op.Op)
						}
					}
				})
			}
			t.Logf("room ids equal to Koncorde's: %d/%d", idsExact, idsTotal)
			require.Equal(t, idsTotal, idsExact, "every room id of the suite must be Koncorde's")
		})
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
