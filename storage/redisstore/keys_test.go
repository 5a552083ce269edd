package redisstore

import (
	"testing"

	"github.com/stretchr/testify/require"

	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
)

func TestCollectionKeysShareOneSlot(t *testing.T) {
	k := keys{prefix: "sc"}
	for _, tc := range []struct{ index, coll string }{
		{"nyc-open-data", "yellow-taxi"},
		{"a}b", "c"},   // '}' ends the hash tag early: the keys still share it
		{"a{b", "c}d"}, // Kuzzle allows braces in names
		{"idx", "été"},
	} {
		ks := k.coll(tc.index, tc.coll)
		for _, key := range ks[1:] {
			require.Equal(t, rediscluster.Slot(ks[0]), rediscluster.Slot(key), "%s/%s: %s", tc.index, tc.coll, key)
		}
	}
	require.Equal(t, rediscluster.Slot(k.indexes()), rediscluster.Slot(k.colls("x")), "the registry lives in one slot")
	sk := k.scroll("abc")
	require.Equal(t, rediscluster.Slot(sk[0]), rediscluster.Slot(sk[1]))
	require.NotEqual(t, k.coll("i", "a")[0], k.coll("i", "b")[0])
}
