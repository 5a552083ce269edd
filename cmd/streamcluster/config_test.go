package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kuzzlerc.json")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestLoadConfigDefaults(t *testing.T) {
	c, err := LoadConfig(nil, env(nil), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, ":7512", c.Listen)
	host, _ := os.Hostname()
	assert.Equal(t, host+":7512", c.Advertise, "empty listen host: advertise the host name")
	assert.Equal(t, []string{"127.0.0.1:7001"}, c.Redis)
	assert.Equal(t, 1, c.MinimumNodes)
	assert.Equal(t, 30, c.RetryJoin)
	assert.Equal(t, time.Second, c.Heartbeat)
	assert.Zero(t, c.EvictionTimeout, "derived by the node: 3 × heartbeat")
	assert.Equal(t, 3*time.Second, c.nodeConfig().Heartbeat*3)
	assert.Equal(t, 3*time.Second, c.DiscoverTimeout)
	assert.Equal(t, time.Second, c.JoinAttemptInterval)
	assert.Equal(t, 500*time.Millisecond, c.WaitForMissingRooms)
	assert.Equal(t, "redis", c.Storage)
	assert.Equal(t, "text", c.LogFormat)
	assert.Equal(t, "sc", c.Prefix)
}

func TestLoadConfigDeepMergeAndPrecedence(t *testing.T) {
	// The file sets one timer: the others keep their defaults (the seed's
	// shallow merge lost them).
	file := writeFile(t, `{
		"plugins": {"cluster": {"minimumNodes": 2, "timers": {"heartbeat": 2000}}},
		"services": {"internalCache": {"nodes": [{"host": "10.0.0.1", "port": 7001}, {"host": "10.0.0.2", "port": 7002}]}}
	}`)
	c, err := LoadConfig([]string{"--config", file}, env(nil), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 2, c.MinimumNodes)
	assert.Equal(t, 2*time.Second, c.Heartbeat)
	assert.Equal(t, time.Second, c.JoinAttemptInterval, "untouched timer keeps its default")
	assert.Equal(t, 500*time.Millisecond, c.WaitForMissingRooms)
	assert.Equal(t, 3*time.Second, c.DiscoverTimeout)
	assert.Equal(t, 30, c.RetryJoin)
	assert.Equal(t, []string{"10.0.0.1:7001", "10.0.0.2:7002"}, c.Redis)

	// Environment over file, flag over environment.
	e := env(map[string]string{"SC_CONFIG": file, "SC_MINIMUM_NODES": "3", "SC_HEARTBEAT": "500ms", "SC_REDIS": "r1:1,r2:2", "SC_LISTEN": ":9000"})
	c, err = LoadConfig([]string{"--heartbeat", "250ms"}, e, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 3, c.MinimumNodes, "env over file")
	assert.Equal(t, 250*time.Millisecond, c.Heartbeat, "flag over env")
	assert.Equal(t, []string{"r1:1", "r2:2"}, c.Redis)
	assert.Equal(t, ":9000", c.Listen)
	host, _ := os.Hostname()
	assert.Equal(t, host+":9000", c.Advertise)

	c, err = LoadConfig([]string{"--minimum-nodes", "5", "--listen", "10.1.1.1:7600", "--wait-replicas", "1"}, e, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 5, c.MinimumNodes)
	assert.Equal(t, 1, c.nodeConfig().WaitReplicas)
	assert.Equal(t, "10.1.1.1:7600", c.Advertise)
}

func TestLoadConfigSingleRedisNodeAndDB(t *testing.T) {
	file := writeFile(t, `{"services": {"internalCache": {"node": {"host": "redis", "port": 6380}},
		"db": {"backend": "elasticsearch", "client": {"node": "http://es:9200"}}}}`)
	c, err := LoadConfig([]string{"--config", file}, env(nil), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, []string{"redis:6380"}, c.Redis)
	assert.Equal(t, "elasticsearch", c.Storage)
	assert.Equal(t, "http://es:9200", c.ESURL)
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		desc    string
		args    []string
		file    string
		env     map[string]string
		wantErr string
	}{
		{desc: "database other than 0", file: `{"services": {"internalCache": {"database": 2}}}`, wantErr: "database 0 only"},
		{desc: "eviction not above heartbeat", file: `{"plugins": {"cluster": {"timers": {"heartbeat": 1000, "evictionTimeout": 1000}}}}`, wantErr: "must be larger than the heartbeat"},
		{desc: "zero minimum nodes", args: []string{"--minimum-nodes", "0"}, wantErr: "minimumNodes 0"},
		{desc: "bad heartbeat in env", env: map[string]string{"SC_HEARTBEAT": "soon"}, wantErr: "heartbeat \"soon\""},
		{desc: "bad storage", args: []string{"--storage", "mongo"}, wantErr: "neither redis nor elasticsearch"},
		{desc: "elasticsearch without URL", args: []string{"--storage", "elasticsearch"}, wantErr: "needs --es-url"},
		{desc: "bad log format", args: []string{"--log-format", "xml"}, wantErr: "neither text nor json"},
		{desc: "redis address without port", args: []string{"--redis", "localhost"}, wantErr: "has no port"},
		{desc: "malformed file", file: `{"plugins": `, wantErr: "config file"},
		{desc: "missing file", args: []string{"--config", "/nonexistent/kuzzlerc"}, wantErr: "no such file"},
		{desc: "wrong type in file", file: `{"plugins": {"cluster": {"minimumNodes": "two"}}}`, wantErr: "config file"},
		{desc: "stray argument", args: []string{"extra"}, wantErr: "unexpected arguments"},
		{desc: "negative wait replicas", args: []string{"--wait-replicas", "-1"}, wantErr: "negative WAIT"},
		{desc: "listen without port", args: []string{"--listen", "localhost"}, wantErr: "not host:port"},
		{desc: "short secret", env: map[string]string{"SC_SECRET": "short"}, wantErr: "secret is 5 bytes"},
		{desc: "short secret in file", file: `{"plugins": {"cluster": {"secret": "short"}}}`, wantErr: "secret is 5 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				args = append(args, "--config", writeFile(t, tt.file))
			}
			_, err := LoadConfig(args, env(tt.env), io.Discard)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrConfig)
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestLoadConfigSecretAndRedisAuth(t *testing.T) {
	c, err := LoadConfig(nil, env(nil), io.Discard)
	require.NoError(t, err)
	assert.Empty(t, c.Secret, "no secret by default: entries unsigned")
	assert.Empty(t, c.nodeConfig().Secret)

	file := writeFile(t, `{"plugins": {"cluster": {"secret": "file-secret-0123456789"}}}`)
	c, err = LoadConfig([]string{"--config", file}, env(nil), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "file-secret-0123456789", c.Secret)
	assert.Equal(t, []byte("file-secret-0123456789"), c.nodeConfig().Secret)
	assert.Equal(t, []byte("file-secret-0123456789"), c.streamsConfig().Secret)

	e := env(map[string]string{"SC_CONFIG": file, "SC_SECRET": "env-secret-0123456789", "SC_REDIS_USERNAME": "sc", "SC_REDIS_PASSWORD": "pw"})
	c, err = LoadConfig(nil, e, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "env-secret-0123456789", c.Secret, "env over file")
	sc := c.streamsConfig()
	assert.Equal(t, "sc", sc.Username)
	assert.Equal(t, "pw", sc.Password)
	assert.Equal(t, []string{"127.0.0.1:7001"}, sc.Addrs)
	assert.Equal(t, "sc", sc.Prefix)
	assert.Zero(t, sc.Database)

	c, err = LoadConfig([]string{"--secret", "flag-secret-0123456789", "--redis-password", "pw2"}, e, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "flag-secret-0123456789", c.Secret, "flag over env")
	assert.Equal(t, "pw2", c.streamsConfig().Password)
}
