package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/realtime"
	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
	"github.com/streamcluster/streamcluster/streams"
)

// chanConn signals every payload it is sent.
type chanConn struct {
	id string
	ch chan struct{}
}

func (c *chanConn) ID() string { return c.id }
func (c *chanConn) Send([]byte) {
	select {
	case c.ch <- struct{}{}:
	default:
	}
}

// reportLatency reports the p50 and p99 of lat in microseconds.
func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkCrossNodeDelivery measures one notification at a time, from
// Route on a node to Conn.Send on the subscriber's node, next to the same
// path within one node and the raw Redis baseline (XADD to a stream on the
// subscriber's inbox shard → a blocked XREADGROUP NOACK), in one run:
//
//	go test -run '^$' -bench CrossNodeDelivery -benchtime 2000x ./realtime/cluster/
func BenchmarkCrossNodeDelivery(b *testing.B) {
	client := newClient(b)
	prefix := rediscluster.UniquePrefix(b)
	a := startNodeHB(b, client, prefix, "a", time.Second)
	bn := startNodeHB(b, client, prefix, "b", time.Second)
	require.Eventually(b, func() bool {
		return a.n.Ready() && bn.n.Ready() && len(a.n.Members(context.Background())) == 2 && len(bn.n.Members(context.Background())) == 2
	}, 10*time.Second, 10*time.Millisecond)
	conn := &chanConn{id: "bench", ch: make(chan struct{}, 1)}
	f := filter(b, "idx", "coll", `{"equals":{"k":"v"}}`)
	room := subscribe(b, a, conn, f).RoomID
	allSee(b, map[string]int{room: 1}, a, bn)
	result, err := json.Marshal(map[string]any{"_source": map[string]any{"k": "v"}})
	require.NoError(b, err)
	msg, err := realtime.DocumentMessage("b", realtime.Origin{Index: "idx", Collection: "coll"}, []string{room}, "in", "create", result)
	require.NoError(b, err)

	route := func(b *testing.B, from *testNode) {
		ctx := context.Background()
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			t0 := time.Now()
			if err := from.router.Route(ctx, msg); err != nil {
				b.Fatal(err)
			}
			select {
			case <-conn.ch:
			case <-time.After(5 * time.Second):
				b.Fatal("notification not delivered")
			}
			lat = append(lat, time.Since(t0))
		}
		b.StopTimer()
		reportLatency(b, lat)
	}
	b.Run("route-on-B-to-conn-on-A", func(b *testing.B) { route(b, bn) })
	b.Run("route-on-A-to-conn-on-A", func(b *testing.B) { route(b, a) })
	b.Run("raw-XADD-to-XREADGROUP", func(b *testing.B) { rawBaseline(b, client, streams.NewKeys(prefix).NodeKey("a", "bench")) })
}

// rawBaseline is the Redis floor: XADD of one entry to stream, read by a
// XREADGROUP BLOCK NOACK loop on another connection.
func rawBaseline(b *testing.B, client rueidis.Client, stream string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	require.NoError(b, client.Do(ctx, client.B().XgroupCreate().Key(stream).Group("g").Id("$").Mkstream().Build()).Error())
	got := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		for ctx.Err() == nil {
			res, err := client.Do(ctx, client.B().Xreadgroup().Group("g", "c").Count(16).Block(100).Noack().
				Streams().Key(stream).Id(">").Build()).AsXRead()
			if rueidis.IsRedisNil(err) {
				continue
			}
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				done <- fmt.Errorf("xreadgroup: %w", err)
				return
			}
			for range res[stream] {
				got <- struct{}{}
			}
		}
		done <- nil
	}()
	lat := make([]time.Duration, 0, b.N)
	payload := make([]byte, 300)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if err := client.Do(ctx, client.B().Xadd().Key(stream).Id("*").FieldValue().FieldValue("e", string(payload)).Build()).Error(); err != nil {
			b.Fatal(err)
		}
		select {
		case <-got:
		case <-time.After(5 * time.Second):
			b.Fatal("entry not read")
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	cancel()
	require.NoError(b, <-done)
	reportLatency(b, lat)
	require.NoError(b, client.Do(context.Background(), client.B().Del().Key(stream).Build()).Error())
}

// BenchmarkCrossNodeThroughput routes notifications concurrently on B to a
// subscriber on A and reports the delivered rate, end to end:
//
//	go test -run '^$' -bench CrossNodeThroughput -benchtime 20000x ./realtime/cluster/
func BenchmarkCrossNodeThroughput(b *testing.B) {
	client := newClient(b)
	prefix := rediscluster.UniquePrefix(b)
	a := startNodeHB(b, client, prefix, "a", time.Second)
	bn := startNodeHB(b, client, prefix, "b", time.Second)
	require.Eventually(b, func() bool {
		return a.n.Ready() && bn.n.Ready() && len(a.n.Members(context.Background())) == 2 && len(bn.n.Members(context.Background())) == 2
	}, 10*time.Second, 10*time.Millisecond)
	conn := &countConn{id: "bench"}
	f := filter(b, "idx", "coll", `{"equals":{"k":"v"}}`)
	room := subscribe(b, a, conn, f).RoomID
	allSee(b, map[string]int{room: 1}, a, bn)
	msg := mustMessage(b, "b", []string{room})
	b.SetParallelism(16)
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := bn.router.Route(context.Background(), msg); err != nil {
				b.Error(err)
				return
			}
		}
	})
	require.Eventually(b, func() bool { return conn.n.Load() >= int64(b.N) }, 30*time.Second, time.Millisecond)
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msg/s")
	st := a.router.Stats()
	b.ReportMetric(float64(st.Gaps-st.Late), "lost")
}

// countConn counts the payloads it is sent.
type countConn struct {
	id string
	n  atomic.Int64
}

func (c *countConn) ID() string  { return c.id }
func (c *countConn) Send([]byte) { c.n.Add(1) }
