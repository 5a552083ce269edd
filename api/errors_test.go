package api

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCatalogueMatchesKuzzle checks ids, codes and statuses against the
// table of the reference (Kuzzle's kerror codes).
func TestCatalogueMatchesKuzzle(t *testing.T) {
	cases := []struct {
		id     string
		code   int
		status int
	}{
		{"api.assert.missing_argument", 33619971, 400},
		{"api.assert.body_required", 33619976, 400},
		{"api.assert.invalid_type", 33619969, 400},
		{"api.assert.invalid_argument", 33619970, 400},
		{"api.assert.koncorde_dsl_error", 33619982, 400},
		{"api.process.controller_not_found", 33685508, 404},
		{"api.process.action_not_found", 33685509, 404},
		{"api.process.not_enough_nodes", 33685515, 503},
		{"api.process.overloaded", 33685506, 503},
		{"api.process.shutting_down", 33685511, 503},
		{"core.realtime.room_not_found", 65537, 404},
		{"core.realtime.invalid_scope", 65540, 400},
		{"core.realtime.invalid_users", 65541, 400},
		{"core.realtime.too_many_rooms", 65543, 413},
		{"core.realtime.not_subscribed", 65544, 412},
		{"services.storage.not_found", 16842763, 404},
		{"services.storage.unknown_index", 16842753, 412},
		{"services.storage.unknown_collection", 16842754, 412},
		{"services.storage.document_already_exists", 16842769, 400},
		{"security.token.invalid", 117506049, 401},
		{"security.token.expired", 117506054, 401},
		{"security.rights.unauthorized", 117637121, 401},
		{"security.rights.forbidden", 117637122, 403},
		{"network.http.url_not_found", 50397191, 404},
		{"network.websocket.unexpected_error", 50528257, 400},
		{"network.websocket.ratelimit_exceeded", 50528258, 429},
		{"cluster.fatal.desync", 134217729, 500},
	}
	for _, tc := range cases {
		e := kerr(tc.id)
		require.Equal(t, tc.id, e.ID)
		require.Equal(t, tc.code, e.Code, tc.id)
		require.Equal(t, tc.status, e.Status, tc.id)
	}
}

func TestErrorJSON(t *testing.T) {
	b, err := json.Marshal(kerr("core.realtime.not_subscribed", "conn", "room"))
	require.NoError(t, err)
	require.JSONEq(t, `{"code":65544,"id":"core.realtime.not_subscribed","message":"User \"conn\" has not subscribed to \"room\".","props":["conn","room"],"status":412}`, string(b))
	b, err = json.Marshal(badRequest(`Attribute volatile must be of type "object"`))
	require.NoError(t, err)
	require.JSONEq(t, `{"message":"Attribute volatile must be of type \"object\"","status":400}`, string(b))
	require.Equal(t, "core.fatal.unexpected_error", kerr("no.such.id").ID)
}
