package streams_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/streams"
)

func TestKeys(t *testing.T) {
	k := streams.NewKeys("")
	require.Equal(t, "sc", k.Prefix())
	require.Equal(t, "{sc}:control", k.Control())
	require.Equal(t, "{sc}:seq", k.Seq())
	require.Equal(t, "{sc}:nodes", k.Nodes())
	require.Equal(t, "{sc}:rooms", k.Rooms())
	require.Equal(t, "{sc}:indexes", k.ControlKey("indexes"))
	require.Equal(t, "{sc}", k.Tag())
	require.Equal(t, "{sc}:members", k.Members())
	require.Equal(t, "{sc}:hb", k.Heartbeats())
	require.Equal(t, "{sc}:incarnation", k.Incarnation())
	require.Equal(t, "sc:{node-n1}:inbox", k.Inbox("n1"))
	require.Equal(t, "sc:{node-n1}:seq", k.NodeKey("n1", "seq"))
	require.Equal(t, "sc:{node-n1}:inbox:dead", k.DeadLetter(k.Inbox("n1")))

	p := streams.NewKeys("prod")
	require.Equal(t, "{prod}:control", p.Control())
	require.Equal(t, "prod:{node-a}:inbox", p.Inbox("a"))
}

func TestValidateNodeID(t *testing.T) {
	require.NoError(t, streams.ValidateNodeID("knode-0a1b"))
	for _, bad := range []string{"", "a b", "a{b", "a}b", "a:b", "é", string(make([]byte, 129))} {
		err := streams.ValidateNodeID(bad)
		require.Error(t, err, "%q", bad)
		require.True(t, errors.Is(err, streams.ErrInvalidConfig))
	}
}

func TestConfigValidate(t *testing.T) {
	d := streams.DefaultConfig()
	require.NoError(t, d.Validate())
	require.Equal(t, []string{streams.DefaultAddr}, d.Addrs)
	require.Equal(t, streams.DefaultPrefix, d.Prefix)
	require.Equal(t, int64(streams.DefaultMaxLen), d.MaxLen)
	require.Equal(t, streams.DefaultDialTimeout, d.DialTimeout)
	require.Equal(t, streams.DefaultReadTimeout, d.ReadTimeout)

	db := streams.Config{Database: 2}
	err := db.Validate()
	require.ErrorIs(t, err, streams.ErrDatabaseNotZero)
	require.Contains(t, err.Error(), "database 0")
	_, err = streams.NewClient(db)
	require.ErrorIs(t, err, streams.ErrDatabaseNotZero)

	for name, c := range map[string]streams.Config{
		"address":      {Addrs: []string{"nohostport"}},
		"prefix":       {Prefix: "a{b}"},
		"maxlen":       {MaxLen: -7},
		"secret":       {Secret: []byte("short")},
		"dial timeout": {DialTimeout: -1},
		"read timeout": {ReadTimeout: -1},
	} {
		require.ErrorIs(t, c.Validate(), streams.ErrInvalidConfig, name)
	}
	require.NoError(t, streams.Config{MaxLen: streams.NoTrim, Secret: []byte("0123456789abcdef")}.Validate())
}
