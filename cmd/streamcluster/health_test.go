package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProbeURL(t *testing.T) {
	tests := []struct {
		desc, listen, want string
	}{
		{"empty host is loopback", ":7512", "http://127.0.0.1:7512/_ready"},
		{"IPv4 any is loopback", "0.0.0.0:7512", "http://127.0.0.1:7512/_ready"},
		{"IPv6 any is loopback", "[::]:7600", "http://127.0.0.1:7600/_ready"},
		{"explicit host kept", "10.1.2.3:80", "http://10.1.2.3:80/_ready"},
		{"IPv6 host bracketed", "[::1]:7512", "http://[::1]:7512/_ready"},
	}
	for _, tt := range tests {
		got, err := probeURL(tt.listen, "/_ready")
		require.NoError(t, err, tt.desc)
		assert.Equal(t, tt.want, got, tt.desc)
	}
	_, err := probeURL("7512", "/_ready")
	assert.ErrorIs(t, err, ErrConfig)
}

func TestHealth(t *testing.T) {
	ready := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_ready" {
			http.NotFound(w, r)
			return
		}
		if !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	env := map[string]string{"SC_LISTEN": ":" + port}
	var stderr bytes.Buffer

	assert.Equal(t, 0, health(nil, func(k string) string { return env[k] }, &stderr), stderr.String())

	ready = false
	stderr.Reset()
	assert.Equal(t, 1, health(nil, func(k string) string { return env[k] }, &stderr))
	assert.Contains(t, stderr.String(), "503")

	// The flag wins over the environment; a closed port is unhealthy.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().String()
	require.NoError(t, ln.Close())
	assert.Equal(t, 1, health([]string{"--listen", closed, "--timeout", "1s"}, func(k string) string { return env[k] }, &stderr))

	assert.Equal(t, 2, health([]string{"--listen", "nonsense"}, func(string) string { return "" }, &stderr))
}
