package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
)

// TestMountedOnEcho checks the way cmd/streamcluster mounts the API: behind
// echo's own routes (health routes win), with the WebSocket upgrade working
// through echo's response writer on any path.
func TestMountedOnEcho(t *testing.T) {
	n := newTestNode(t, rediscluster.UniquePrefix(t), nil)
	e := echo.New()
	e.GET("/_healthcheck", func(c echo.Context) error { return c.String(http.StatusOK, "alive") })
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc { return next }) // a middleware, as the binary has
	h := echo.WrapHandler(n.srv)
	e.Any("/", h)
	e.Any("/*", h)
	hs := httptest.NewServer(e)
	defer hs.Close()

	resp, err := http.Get(hs.URL + "/_healthcheck")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	resp, err = http.Get(hs.URL + "/_healthCheck")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))

	for _, path := range []string{"", "/", "/some/path"} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+path, nil)
		require.NoError(t, err, path)
		require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"p":1}`)))
		_, data, err := c.Read(ctx)
		require.NoError(t, err)
		require.Equal(t, `{"p":2}`, string(data))
		require.NoError(t, c.Close(websocket.StatusNormalClosure, ""))
		cancel()
	}
}
