package api

import (
	"testing"

	"github.com/stretchr/testify/require"

	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
)

// TestEveryAction runs each document, index and collection action once over
// WebSocket and checks the shape of its result.
func TestEveryAction(t *testing.T) {
	n := newTestNode(t, rediscluster.UniquePrefix(t), nil)
	ws := dialWS(t, n, "/")
	q := func(action string, extra map[string]any) map[string]any {
		t.Helper()
		req := map[string]any{"controller": "document", "action": action, "index": "i", "collection": "c", "refresh": "wait_for"}
		for k, v := range extra {
			req[k] = v
		}
		res, _ := ws.ok(req).(map[string]any)
		return res
	}
	body := func(v map[string]any) map[string]any { return map[string]any{"body": v} }
	docs := func(d ...map[string]any) map[string]any {
		list := make([]any, len(d))
		for i := range d {
			list[i] = d[i]
		}
		return body(map[string]any{"documents": list})
	}

	ws.ok(map[string]any{"controller": "index", "action": "create", "index": "i"})
	ws.ok(map[string]any{"controller": "index", "action": "create", "index": "j"})
	ws.ok(map[string]any{"controller": "collection", "action": "create", "index": "i", "collection": "c",
		"body": map[string]any{"mappings": map[string]any{"properties": map[string]any{"n": map[string]any{"type": "integer"}}}}})
	ws.ok(map[string]any{"controller": "collection", "action": "update", "index": "i", "collection": "c",
		"body": map[string]any{"properties": map[string]any{"tag": map[string]any{"type": "keyword"}}}})
	mapping := ws.ok(map[string]any{"controller": "collection", "action": "getMapping", "index": "i", "collection": "c"}).(map[string]any)
	require.Contains(t, mapping["properties"], "tag")

	res := q("mCreate", docs(map[string]any{"_id": "a", "body": map[string]any{"n": 1}}, map[string]any{"_id": "b", "body": map[string]any{"n": 2}}))
	require.Len(t, res["successes"], 2)
	require.Len(t, res["errors"], 0)
	res = q("mCreateOrReplace", docs(map[string]any{"_id": "a", "body": map[string]any{"n": 10}}, map[string]any{"_id": "c", "body": map[string]any{"n": 3}}))
	require.Len(t, res["successes"], 2)
	created := map[string]any{}
	for _, s := range res["successes"].([]any) {
		created[s.(map[string]any)["_id"].(string)] = s.(map[string]any)["created"]
	}
	require.Equal(t, map[string]any{"a": false, "c": true}, created)
	res = q("mReplace", docs(map[string]any{"_id": "a", "body": map[string]any{"n": 11}}, map[string]any{"_id": "zz", "body": map[string]any{"n": 0}}))
	require.Len(t, res["successes"], 1)
	errs := res["errors"].([]any)
	require.Len(t, errs, 1)
	require.EqualValues(t, 404, errs[0].(map[string]any)["status"])
	res = q("mUpdate", docs(map[string]any{"_id": "b", "body": map[string]any{"tag": "x"}}))
	require.Len(t, res["successes"], 1)
	res = q("mUpsert", docs(map[string]any{"_id": "d", "changes": map[string]any{"n": 4}, "default": map[string]any{"tag": "new"}}))
	require.Len(t, res["successes"], 1)
	res = q("upsert", map[string]any{"_id": "b", "body": map[string]any{"changes": map[string]any{"n": 20}}})
	require.Equal(t, false, res["created"])
	res = q("mGet", body(map[string]any{"ids": []any{"a", "b", "nope"}}))
	require.Len(t, res["successes"], 2)
	require.Equal(t, []any{"nope"}, res["errors"])

	res = q("updateByQuery", body(map[string]any{"query": map[string]any{"range": map[string]any{"n": map[string]any{"gte": 10}}}, "changes": map[string]any{"tag": "big"}}))
	require.Len(t, res["successes"], 2)

	res = q("search", map[string]any{"size": 2, "scroll": "30s", "body": map[string]any{"sort": []any{"n"}}})
	require.EqualValues(t, 4, res["total"])
	require.Len(t, res["hits"], 2)
	scrollID, _ := res["scrollId"].(string)
	require.NotEmpty(t, scrollID)
	next := ws.ok(map[string]any{"controller": "document", "action": "scroll", "scrollId": scrollID}).(map[string]any)
	require.Len(t, next["hits"], 2)

	require.Equal(t, map[string]any{"count": float64(2)}, q("count", body(map[string]any{"query": map[string]any{"term": map[string]any{"tag": "big"}}})))
	require.Equal(t, true, ws.ok(map[string]any{"controller": "document", "action": "exists", "index": "i", "collection": "c", "_id": "a"}))
	res = q("validate", body(map[string]any{"n": 1}))
	require.Equal(t, true, res["valid"])
	res = ws.ok(map[string]any{"controller": "realtime", "action": "validate", "index": "i", "collection": "c", "body": map[string]any{"n": 1}}).(map[string]any)
	require.Equal(t, true, res["valid"])

	res = q("mDelete", body(map[string]any{"ids": []any{"a", "nope"}}))
	require.Equal(t, []any{"a"}, res["successes"])
	require.Len(t, res["errors"], 1)
	res = q("deleteByQuery", body(map[string]any{"query": map[string]any{"ids": map[string]any{"values": []any{"b"}}}}))
	require.Equal(t, []any{"b"}, res["ids"])

	ws.ok(map[string]any{"controller": "collection", "action": "refresh", "index": "i", "collection": "c"})
	ws.ok(map[string]any{"controller": "collection", "action": "truncate", "index": "i", "collection": "c"})
	require.Equal(t, map[string]any{"count": float64(0)}, q("count", nil))
	require.Equal(t, true, ws.ok(map[string]any{"controller": "collection", "action": "exists", "index": "i", "collection": "c"}))
	ws.ok(map[string]any{"controller": "collection", "action": "delete", "index": "i", "collection": "c"})
	require.Equal(t, false, ws.ok(map[string]any{"controller": "collection", "action": "exists", "index": "i", "collection": "c"}))

	res = ws.ok(map[string]any{"controller": "index", "action": "mDelete", "body": map[string]any{"indexes": []any{"i", "j", "nope"}}}).(map[string]any)
	require.ElementsMatch(t, []any{"i", "j"}, res["deleted"])
	require.Equal(t, false, ws.ok(map[string]any{"controller": "index", "action": "exists", "index": "i"}))
}
