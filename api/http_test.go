package api

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
)

func httpDo(t testing.TB, n *testNode, method, path, body string, headers map[string]string) (int, map[string]any) {
	t.Helper()
	code, raw, _ := httpRaw(t, n, method, path, body, headers)
	var m map[string]any
	if method != http.MethodHead {
		require.NoError(t, json.Unmarshal(raw, &m), string(raw))
	}
	return code, m
}

func httpRaw(t testing.TB, n *testNode, method, path, body string, headers map[string]string) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, n.url+path, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, raw, resp.Header
}

func TestHTTPProtocol(t *testing.T) {
	n := newTestNode(t, rediscluster.UniquePrefix(t), nil)

	code, raw, h := httpRaw(t, n, "GET", "/_now?pretty", "", map[string]string{"X-Kuzzle-Volatile": `{"a":"b"}`})
	require.Equal(t, 200, code)
	require.Contains(t, string(raw), "\n  \"action\": \"now\"")
	require.Equal(t, "application/json", h.Get("Content-Type"))
	require.NotEmpty(t, h.Get("X-Kuzzle-Request-Id"))
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	require.Equal(t, map[string]any{"a": "b"}, m["volatile"])
	require.NotContains(t, m, "room")
	require.Contains(t, m, "error")

	code, _ = httpDo(t, n, "HEAD", "/", "", nil)
	require.Equal(t, 200, code)

	code, m = httpDo(t, n, "POST", "/_query", `{"controller":"auth","action":"checkToken","requestId":"q1"}`, nil)
	require.Equal(t, 200, code)
	require.Equal(t, "q1", m["requestId"])
	require.Equal(t, map[string]any{"valid": true, "kuid": "-1", "expiresAt": nil}, m["result"])

	code, m = httpDo(t, n, "GET", "/nope/nope/nope/nope/nope", "", nil)
	require.Equal(t, 404, code)
	require.Equal(t, "network.http.url_not_found", errID(m))

	code, m = httpDo(t, n, "GET", "/_now", "", map[string]string{"X-Kuzzle-Volatile": `{bad`})
	require.Equal(t, 400, code)
	require.Equal(t, "network.http.volatile_parse_failed", errID(m))

	code, m = httpDo(t, n, "GET", "/_now", "", map[string]string{"Authorization": "Bearer garbage"})
	require.Equal(t, 401, code)
	require.Equal(t, "security.token.invalid", errID(m))

	// Transport errors are sent as the bare error object.
	code, m = httpDo(t, n, "POST", "/idx/_create", `{"a":`, nil)
	require.Equal(t, 400, code)
	require.Equal(t, "network.http.body_parse_failed", m["id"])
	require.NotContains(t, m, "result")

	code, m = httpDo(t, n, "POST", "/idx/_create", `{"a":"`+strings.Repeat("x", DefaultMaxRequestSize)+`"}`, nil)
	require.Equal(t, 413, code)
	require.Equal(t, "network.http.request_too_large", m["id"])

	code, m = httpDo(t, n, "GET", "/_publicApi", "", nil)
	require.Equal(t, 200, code)
	create := m["result"].(map[string]any)["document"].(map[string]any)["create"].(map[string]any)
	require.Contains(t, create["http"], map[string]any{"verb": "POST", "url": "/:index/:collection/_create"})
}

func TestHTTPDocumentFlow(t *testing.T) {
	n := newTestNode(t, rediscluster.UniquePrefix(t), nil)
	must := func(method, path, body string) map[string]any {
		t.Helper()
		code, m := httpDo(t, n, method, path, body, nil)
		require.Equal(t, 200, code, "%s %s: %v", method, path, m)
		require.Nil(t, m["error"])
		return m
	}
	must("POST", "/idx/_create", "")
	code, m := httpDo(t, n, "POST", "/idx/_create", "", nil)
	require.Equal(t, 412, code)
	require.Equal(t, "services.storage.index_already_exists", errID(m))
	require.Equal(t, true, must("GET", "/idx/_exists", "")["result"])
	must("PUT", "/idx/coll", `{"mappings":{"properties":{"n":{"type":"integer"}}}}`)
	require.Equal(t, true, must("GET", "/idx/coll/_exists", "")["result"])

	m = must("POST", "/idx/coll/doc1/_create?refresh=wait_for", `{"n":1,"tag":"a"}`)
	res := m["result"].(map[string]any)
	require.Equal(t, "doc1", res["_id"])
	info := res["_source"].(map[string]any)["_kuzzle_info"].(map[string]any)
	require.Equal(t, "-1", info["author"])
	require.Nil(t, info["updatedAt"])

	must("POST", "/idx/coll/_create?refresh=wait_for", `{"n":2,"tag":"b"}`)
	must("PUT", "/idx/coll/doc3?refresh=wait_for", `{"n":3,"tag":"a"}`)
	m = must("PATCH", "/idx/coll/doc1/_update?refresh=wait_for", `{"tag":"c"}`)
	require.Equal(t, "c", m["result"].(map[string]any)["_source"].(map[string]any)["tag"])

	m = must("GET", "/idx/coll/doc1", "")
	require.Equal(t, float64(1), m["result"].(map[string]any)["_source"].(map[string]any)["n"])
	require.Equal(t, true, must("GET", "/idx/coll/doc1/_exists", "")["result"])

	m = must("POST", "/idx/coll/_search?size=2&from=0", `{"query":{"range":{"n":{"gte":2}}},"sort":[{"n":"desc"}]}`)
	res = m["result"].(map[string]any)
	require.EqualValues(t, 2, res["total"])
	hits := res["hits"].([]any)
	require.Equal(t, "doc3", hits[0].(map[string]any)["_id"])

	m = must("POST", "/idx/coll/_count", `{"query":{"term":{"tag":"a"}}}`)
	require.EqualValues(t, 1, m["result"].(map[string]any)["count"])

	m = must("GET", "/idx/_list", "")
	require.Equal(t, []any{map[string]any{"name": "coll", "type": "stored"}}, m["result"].(map[string]any)["collections"])
	m = must("GET", "/idx/coll/_mapping", "")
	require.Contains(t, m["result"].(map[string]any), "properties")

	code, m = httpDo(t, n, "GET", "/idx/coll/missing", "", nil)
	require.Equal(t, 404, code)
	require.Equal(t, "services.storage.not_found", errID(m))
	require.Equal(t, `Document "missing" not found in "idx":"coll".`, m["error"].(map[string]any)["message"])

	must("DELETE", "/idx/coll/doc1?refresh=wait_for", "")
	m = must("DELETE", "/idx/coll/_query?refresh=wait_for", `{"query":{"match_all":{}}}`)
	require.Len(t, m["result"].(map[string]any)["ids"], 2)
	must("DELETE", "/idx/coll/_truncate", "")
	must("DELETE", "/idx/coll", "")
	m = must("GET", "/_list", "")
	require.Contains(t, m["result"].(map[string]any)["indexes"], "idx")
	must("DELETE", "/idx", "")
}
