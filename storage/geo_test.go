package storage_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/storage"
)

func TestGeoQueries(t *testing.T) {
	// Paris, with the point in three encodings.
	docs := map[string]map[string]any{
		"object": {"loc": map[string]any{"lat": 48.8566, "lon": 2.3522}},
		"array":  {"loc": []any{2.3522, 48.8566}},
		"string": {"loc": "48.8566, 2.3522"},
		"nested": {"places": []any{map[string]any{"loc": map[string]any{"lat": 48.8566, "lon": 2.3522}}}},
		"none":   {"name": "x"},
	}
	cases := []struct {
		desc, query string
		want        []string // among object, array, string
	}{
		{"within 10km of the Louvre", `{"geo_distance":{"distance":"10km","loc":{"lat":48.8606,"lon":2.3376}}}`, []string{"object", "array", "string"}},
		{"Lyon is 390km away", `{"geo_distance":{"distance":"100km","loc":"45.764,4.8357"}}`, nil},
		{"Lyon within 400km", `{"geo_distance":{"distance":"400km","loc":[4.8357,45.764]}}`, []string{"object", "array", "string"}},
		{"miles", `{"geo_distance":{"distance":"250mi","loc":{"lat":45.764,"lon":4.8357}}}`, []string{"object", "array", "string"}},
		{"box around Paris", `{"geo_bounding_box":{"loc":{"top_left":{"lat":49,"lon":2},"bottom_right":{"lat":48,"lon":3}}}}`, []string{"object", "array", "string"}},
		{"box with sides", `{"geo_bounding_box":{"loc":{"top":49,"left":2,"bottom":48,"right":3}}}`, []string{"object", "array", "string"}},
		{"box elsewhere", `{"geo_bounding_box":{"loc":{"top":10,"left":2,"bottom":0,"right":3}}}`, nil},
		{"box across the antimeridian", `{"geo_bounding_box":{"loc":{"top":49,"left":170,"bottom":48,"right":3}}}`, []string{"object", "array", "string"}},
	}
	for _, tc := range cases {
		m, err := storage.CompileQuery(json.RawMessage(tc.query))
		require.NoError(t, err, tc.desc)
		var got []string
		for _, id := range []string{"object", "array", "string"} {
			if m.Match(id, docs[id]) {
				got = append(got, id)
			}
		}
		require.Equal(t, tc.want, got, tc.desc)
		require.False(t, m.Match("none", docs["none"]), tc.desc)
	}
	m, err := storage.CompileQuery(json.RawMessage(`{"geo_distance":{"distance":"1km","places.loc":{"lat":48.8566,"lon":2.3522}}}`))
	require.NoError(t, err)
	require.True(t, m.Match("nested", docs["nested"]), "points inside arrays of objects")

	for _, bad := range []string{
		`{"geo_distance":{"loc":{"lat":1,"lon":2}}}`,
		`{"geo_distance":{"distance":"far","loc":{"lat":1,"lon":2}}}`,
		`{"geo_distance":{"distance":"1km"}}`,
		`{"geo_distance":{"distance":"1km","loc":"u09tvw"}}`,
		`{"geo_bounding_box":{"loc":{"top":1}}}`,
	} {
		_, err := storage.CompileQuery(json.RawMessage(bad))
		require.ErrorIs(t, err, storage.ErrBadQuery, bad)
	}
	// Koncorde's geoDistance goes through the translation.
	m, err = storage.Compile("i", "c", storage.Query{Lang: storage.LangKoncorde, Body: json.RawMessage(`{"geoDistance":{"loc":{"lat":48.8606,"lon":2.3376},"distance":"10km"}}`)})
	require.NoError(t, err)
	require.True(t, m.Match("object", docs["object"]))
}
