package streams_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
	"github.com/streamcluster/streamcluster/streams"
)

func testConfig(t *testing.T, addrs []string) streams.Config {
	cfg := streams.DefaultConfig()
	cfg.Addrs = addrs
	cfg.Prefix = rediscluster.UniquePrefix(t)
	return cfg
}

func newClient(t *testing.T, cfg streams.Config) rueidis.Client {
	t.Helper()
	client, err := streams.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(client.Close)
	return client
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func readAll(t *testing.T, ctx context.Context, client rueidis.Client, stream string) []rueidis.XRangeEntry {
	t.Helper()
	entries, err := client.Do(ctx, client.B().Xrange().Key(stream).Start("-").End("+").Build()).AsXRange()
	require.NoError(t, err)
	return entries
}

func TestAppendAndDecode(t *testing.T) {
	ctx := ctxT(t)
	for _, signed := range []bool{false, true} {
		t.Run(fmt.Sprintf("signed=%v", signed), func(t *testing.T) {
			cfg := testConfig(t, testCluster.Addrs())
			if signed {
				cfg.Secret = testSecret
			}
			client := newClient(t, cfg)
			codec := streams.NewCodec(cfg.Secret)
			app := streams.NewAppender(client, codec, cfg)
			keys := app.Keys()

			e := streams.Envelope{Type: "Notify", Sender: "n1", Incarnation: 2, Seq: 9, Time: time.Now().UnixMilli(), Payload: []byte("payload")}
			id, err := app.Append(ctx, keys.Inbox("n2"), e)
			require.NoError(t, err)

			entries := readAll(t, ctx, client, keys.Inbox("n2"))
			require.Len(t, entries, 1)
			require.Equal(t, id, entries[0].ID)
			got, err := codec.Decode(entries[0].FieldValues)
			require.NoError(t, err)
			e.Version = streams.CurrentVersion
			require.Equal(t, e, got)

			// A codec with signing on rejects entries written without it.
			if !signed {
				_, err := streams.NewCodec(testSecret).Decode(entries[0].FieldValues)
				require.ErrorIs(t, err, streams.ErrUnsigned)
			}
		})
	}
}

func TestAppendBatchAcrossShards(t *testing.T) {
	ctx := ctxT(t)
	cfg := testConfig(t, testCluster.Addrs())
	client := newClient(t, cfg)
	codec := streams.NewCodec(nil)
	app := streams.NewAppender(client, codec, cfg)
	keys := app.Keys()

	// Enough nodes that the inboxes land on every master.
	const nodes, perNode = 12, 20
	masters := map[int]bool{}
	var batch []streams.Entry
	for n := 0; n < nodes; n++ {
		id := "n" + strconv.Itoa(n)
		m, err := testCluster.MasterFor(ctx, keys.Inbox(id))
		require.NoError(t, err)
		masters[m] = true
		for i := 0; i < perNode; i++ {
			batch = append(batch, streams.Entry{Stream: keys.Inbox(id), Envelope: streams.Envelope{Type: "T", Sender: "src", Seq: uint64(i + 1)}})
		}
	}
	require.Len(t, masters, 3, "the inboxes should spread over every master")
	batch = append(batch, streams.Entry{Stream: keys.Inbox("n0"), Envelope: streams.Envelope{Type: "", Sender: "src"}})

	results := app.AppendBatch(ctx, batch)
	require.Len(t, results, len(batch))
	for i, r := range results[:len(batch)-1] {
		require.NoError(t, r.Err, i)
		require.NotEmpty(t, r.ID, i)
	}
	require.ErrorIs(t, results[len(batch)-1].Err, streams.ErrInvalidEnvelope)

	for n := 0; n < nodes; n++ {
		entries := readAll(t, ctx, client, keys.Inbox("n"+strconv.Itoa(n)))
		require.Len(t, entries, perNode)
		for i, en := range entries {
			e, err := codec.Decode(en.FieldValues)
			require.NoError(t, err)
			require.Equal(t, uint64(i+1), e.Seq, "entries of one stream keep their order")
			require.Equal(t, results[n*perNode+i].ID, en.ID)
		}
	}
}

func TestAppendControlAssignsClusterSequence(t *testing.T) {
	ctx := ctxT(t)
	cfg := testConfig(t, testCluster.Addrs())
	cfg.Secret = testSecret
	client := newClient(t, cfg)
	codec := streams.NewCodec(cfg.Secret)
	app := streams.NewAppender(client, codec, cfg)
	keys := app.Keys()

	// Concurrent appends get distinct sequences, and the stream order is
	// the sequence order.
	const n = 50
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			_, _, err := app.AppendControl(ctx, streams.Envelope{Type: "Heartbeat", Sender: "n" + strconv.Itoa(i), Incarnation: 1, Seq: 999})
			errs <- err
		}()
	}
	for i := 0; i < n; i++ {
		require.NoError(t, <-errs)
	}
	seq, id, err := app.AppendControl(ctx, streams.Envelope{Type: "NodeLeft", Sender: "n0", Incarnation: 1})
	require.NoError(t, err)
	require.Equal(t, uint64(n+1), seq)

	entries := readAll(t, ctx, client, keys.Control())
	require.Len(t, entries, n+1)
	for i, en := range entries {
		e, err := codec.Decode(en.FieldValues)
		require.NoError(t, err)
		require.Equal(t, uint64(i+1), e.Seq)
	}
	require.Equal(t, id, entries[n].ID)
	got, err := client.Do(ctx, client.B().Get().Key(keys.Seq()).Build()).AsInt64()
	require.NoError(t, err)
	require.Equal(t, int64(n+1), got)

	// After SCRIPT FLUSH on the owning master, rueidis reloads the script
	// (EVALSHA -> NOSCRIPT -> EVAL).
	m, err := testCluster.MasterFor(ctx, keys.Control())
	require.NoError(t, err)
	admin, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{testCluster.Addr(m)}, ForceSingleClient: true, DisableCache: true})
	require.NoError(t, err)
	defer admin.Close()
	require.NoError(t, admin.Do(ctx, admin.B().ScriptFlush().Build()).Error())
	seq, _, err = app.AppendControl(ctx, streams.Envelope{Type: "NodeLeft", Sender: "n1", Incarnation: 1})
	require.NoError(t, err)
	require.Equal(t, uint64(n+2), seq)
}

func TestTrimming(t *testing.T) {
	ctx := ctxT(t)
	const appends, maxLen = 2000, 100
	for _, tc := range []struct {
		maxLen     int64
		min, max   int64
		viaControl bool
	}{
		{maxLen: maxLen, min: maxLen, max: 2 * maxLen},
		{maxLen: maxLen, min: maxLen, max: 2 * maxLen, viaControl: true},
		{maxLen: streams.NoTrim, min: appends, max: appends},
		{maxLen: streams.NoTrim, min: appends, max: appends, viaControl: true},
	} {
		t.Run(fmt.Sprintf("maxlen=%d/control=%v", tc.maxLen, tc.viaControl), func(t *testing.T) {
			cfg := testConfig(t, testCluster.Addrs())
			cfg.MaxLen = tc.maxLen
			client := newClient(t, cfg)
			app := streams.NewAppender(client, streams.NewCodec(nil), cfg)
			stream := app.Keys().Inbox("n1")
			if tc.viaControl {
				stream = app.Keys().Control()
			}
			for i := 0; i < appends; i += 100 {
				var batch []streams.Entry
				for j := 0; j < 100; j++ {
					batch = append(batch, streams.Entry{Stream: stream, Envelope: streams.Envelope{Type: "T", Sender: "s"}})
				}
				if tc.viaControl {
					for range batch {
						_, _, err := app.AppendControl(ctx, batch[0].Envelope)
						require.NoError(t, err)
					}
					continue
				}
				for _, r := range app.AppendBatch(ctx, batch) {
					require.NoError(t, r.Err)
				}
			}
			n, err := client.Do(ctx, client.B().Xlen().Key(stream).Build()).AsInt64()
			require.NoError(t, err)
			require.GreaterOrEqual(t, n, tc.min)
			require.LessOrEqual(t, n, tc.max)
		})
	}
}

func TestNewClientStandalone(t *testing.T) {
	ctx := ctxT(t)
	single, err := rediscluster.StartStandalone(ctx, rediscluster.Options{})
	require.NoError(t, err)
	defer single.Close()

	cfg := testConfig(t, single.Addrs())
	client := newClient(t, cfg)
	app := streams.NewAppender(client, streams.NewCodec(nil), cfg)
	seq, _, err := app.AppendControl(ctx, streams.Envelope{Type: "T", Sender: "s"})
	require.NoError(t, err)
	require.Equal(t, uint64(1), seq)
}

func TestNewClientUnreachable(t *testing.T) {
	cfg := streams.DefaultConfig()
	cfg.Addrs = []string{"127.0.0.1:1"}
	cfg.DialTimeout = 200 * time.Millisecond
	_, err := streams.NewClient(cfg)
	require.Error(t, err)
}

func TestNewClientWithACLUser(t *testing.T) {
	ctx := ctxT(t)
	user := rediscluster.UniquePrefix(t)
	// ACL users are per process: create the user on every node.
	for i := 0; i < testCluster.Len(); i++ {
		admin, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{testCluster.Addr(i)}, ForceSingleClient: true, DisableCache: true})
		require.NoError(t, err)
		require.NoError(t, admin.Do(ctx, admin.B().AclSetuser().Username(user).Rule("on", ">s3cret-pass", "~*", "&*", "+@all").Build()).Error())
		t.Cleanup(func() {
			_ = admin.Do(context.Background(), admin.B().AclDeluser().Username(user).Build()).Error()
			admin.Close()
		})
	}

	cfg := testConfig(t, testCluster.Addrs())
	cfg.Username, cfg.Password = user, "s3cret-pass"
	client := newClient(t, cfg)
	who, err := client.Do(ctx, client.B().AclWhoami().Build()).ToString()
	require.NoError(t, err)
	require.Equal(t, user, who)
	_, _, err = streams.NewAppender(client, streams.NewCodec(nil), cfg).AppendControl(ctx, streams.Envelope{Type: "T", Sender: "s"})
	require.NoError(t, err)

	cfg.Password = "wrong"
	_, err = streams.NewClient(cfg)
	require.Error(t, err)
}
