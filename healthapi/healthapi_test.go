package healthapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/node"
)

// fakeCluster is an in-memory Cluster (the routes' port, not Redis).
type fakeCluster struct {
	ready    bool
	members  []node.Member
	resetErr error
	resets   int
}

func (f *fakeCluster) ID() string                            { return "n1" }
func (f *fakeCluster) Ready() bool                           { return f.ready }
func (f *fakeCluster) Members(context.Context) []node.Member { return f.members }
func (f *fakeCluster) Reset(context.Context) error           { f.resets++; return f.resetErr }

func do(t *testing.T, e *echo.Echo, method, path string) (int, map[string]any, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	body := rec.Body.String()
	var env map[string]any
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &env), body)
	}
	return rec.Code, env, body
}

func newEcho(f *fakeCluster, ping func(context.Context) error) *echo.Echo {
	e := echo.New()
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "test_total", Help: "a test counter"}))
	Register(e, Config{Cluster: f, Ping: ping, Gatherer: reg})
	return e
}

func TestHealthFollowsReadiness(t *testing.T) {
	f := &fakeCluster{}
	e := newEcho(f, nil)

	code, env, _ := do(t, e, http.MethodGet, "/_plugin/cluster/health")
	assert.Equal(t, http.StatusNotFound, code)
	assert.Equal(t, float64(404), env["status"])
	assert.Nil(t, env["result"])
	assert.Equal(t, "cluster/cluster", env["controller"])
	assert.Equal(t, "health", env["action"])
	assert.Equal(t, "n1", env["node"])
	errObj, _ := env["error"].(map[string]any)
	require.NotNil(t, errObj)
	assert.Equal(t, "ko", errObj["message"])
	assert.Equal(t, float64(404), errObj["status"])

	code, env, _ = do(t, e, http.MethodGet, "/_ready")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	errObj, _ = env["error"].(map[string]any)
	assert.Equal(t, "api.process.not_enough_nodes", errObj["id"])

	f.ready = true
	for _, path := range []string{"/_plugin/cluster/health", "/_/health"} {
		code, env, _ = do(t, e, http.MethodGet, path)
		assert.Equal(t, http.StatusOK, code, path)
		assert.Equal(t, "ok", env["result"])
		assert.Nil(t, env["error"])
		assert.Contains(t, env, "volatile")
		assert.Equal(t, map[string]any{}, env["headers"])
	}
	code, _, _ = do(t, e, http.MethodGet, "/_ready")
	assert.Equal(t, http.StatusOK, code)
}

func TestStatusShape(t *testing.T) {
	started := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	f := &fakeCluster{ready: true, members: []node.Member{
		{IDCard: node.IDCard{ID: "n1", Address: "10.0.0.1:7512", Version: "v1", StartedAt: started}, Incarnation: 4, Self: true, Ready: true, HeartbeatAge: 250 * time.Millisecond, Lag: 0},
		{IDCard: node.IDCard{ID: "n2", Address: "10.0.0.2:7512"}, Incarnation: 2, Ready: false, HeartbeatAge: time.Second, Lag: -1},
	}}
	e := newEcho(f, nil)
	code, env, body := do(t, e, http.MethodGet, "/_plugin/cluster/status")
	require.Equal(t, http.StatusOK, code, body)
	res := env["result"].(map[string]any)
	assert.Equal(t, float64(2), res["count"])
	cur := res["current"].(map[string]any)
	assert.Equal(t, "n1", cur["id"])
	assert.Equal(t, "10.0.0.1:7512", cur["address"])
	assert.Equal(t, true, cur["ready"])
	assert.Equal(t, float64(4), cur["incarnation"])
	assert.Equal(t, 0.25, cur["secondsSinceHeartbeat"])
	assert.Equal(t, "2026-11-25T08:00:00Z", cur["startedAt"])
	pool := res["pool"].([]any)
	require.Len(t, pool, 1)
	p := pool[0].(map[string]any)
	assert.Equal(t, "n2", p["id"])
	assert.Equal(t, false, p["ready"])
	assert.Equal(t, float64(-1), p["controlLag"])
}

func TestResetAndLiveness(t *testing.T) {
	f := &fakeCluster{ready: true}
	pingErr := errors.New("connection refused")
	var failPing bool
	e := newEcho(f, func(context.Context) error {
		if failPing {
			return pingErr
		}
		return nil
	})

	code, env, _ := do(t, e, http.MethodPost, "/_plugin/cluster/reset")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok", env["result"])
	assert.Equal(t, 1, f.resets)
	code, _, _ = do(t, e, http.MethodGet, "/_plugin/cluster/reset")
	assert.Equal(t, http.StatusMethodNotAllowed, code, "reset is POST only")

	f.resetErr = errors.New("boom")
	code, env, _ = do(t, e, http.MethodPost, "/_plugin/cluster/reset")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Nil(t, env["result"])

	code, _, _ = do(t, e, http.MethodGet, "/_healthcheck")
	assert.Equal(t, http.StatusOK, code)
	failPing = true
	code, env, _ = do(t, e, http.MethodGet, "/_healthcheck")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, float64(503), env["status"])

	code, _, body := do(t, e, http.MethodGet, "/metrics")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "test_total 0")
}

func TestShutdownRoute(t *testing.T) {
	f := &fakeCluster{ready: true}
	calls := 0
	var shutdownErr error
	e := echo.New()
	Register(e, Config{Cluster: f, Ping: func(context.Context) error { return nil },
		Shutdown: func(context.Context) error { calls++; return shutdownErr }})
	code, env, _ := do(t, e, http.MethodPost, "/_plugin/cluster/shutdown")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok", env["result"])
	assert.Equal(t, 1, calls)
	shutdownErr = errors.New("fenced")
	code, _, _ = do(t, e, http.MethodPost, "/_plugin/cluster/shutdown")
	assert.Equal(t, http.StatusServiceUnavailable, code)

	// Without Config.Shutdown there is no such route.
	code, _, _ = do(t, newEcho(f, func(context.Context) error { return nil }), http.MethodPost, "/_plugin/cluster/shutdown")
	assert.NotEqual(t, http.StatusOK, code)
}
