package cluster_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
	"github.com/streamcluster/streamcluster/streams"
)

// BenchmarkFanoutTargetedVsBroadcast compares, on the raw Redis layer, the
// two fan-out designs for n nodes when k of them have subscribers to a
// notification: "targeted" (what Router does) pipelines one XADD per
// subscribed node to that node's inbox, and each node reads only its inbox;
// "broadcast" does one XADD to a shared stream that every node reads (one
// group each) and filters locally. It reports delivered notifications per
// second (to all k subscribed nodes) and the entries every reader had to
// read per notification:
//
//	go test -run '^$' -bench FanoutTargetedVsBroadcast -benchtime 20000x ./realtime/cluster/
func BenchmarkFanoutTargetedVsBroadcast(b *testing.B) {
	client := newClient(b)
	for _, n := range []int{3, 10} {
		for _, k := range []int{1, n - 1} {
			for _, mode := range []string{"targeted", "broadcast"} {
				b.Run(fmt.Sprintf("%s/nodes=%d/subscribed=%d", mode, n, k), func(b *testing.B) {
					fanout(b, client, mode == "broadcast", n, k)
				})
			}
		}
	}
}

func fanout(b *testing.B, client rueidis.Client, broadcast bool, n, k int) {
	keys := streams.NewKeys(rediscluster.UniquePrefix(b))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Node 0 writes; nodes 1..k have subscribers; every node 1..n-1 runs a
	// reader (in broadcast mode all of them read everything).
	streamOf := func(i int) string {
		if broadcast {
			return keys.ControlKey("broadcast")
		}
		return keys.Inbox("n" + strconv.Itoa(i))
	}
	var (
		delivered, read atomic.Int64
		wg              sync.WaitGroup
	)
	for i := 1; i < n; i++ {
		stream, group := streamOf(i), "n"+strconv.Itoa(i)
		require.NoError(b, client.Do(ctx, client.B().XgroupCreate().Key(stream).Group(group).Id("$").Mkstream().Build()).Error())
		if !broadcast && i > k {
			continue // no subscriber: a targeted node reads an empty inbox
		}
		subscribed := i <= k
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				res, err := client.Do(ctx, client.B().Xreadgroup().Group(group, group).Count(256).Block(50).Noack().
					Streams().Key(stream).Id(">").Build()).AsXRead()
				if err != nil {
					continue // nil (timeout) or the context ended
				}
				got := int64(len(res[stream]))
				read.Add(got)
				if subscribed {
					delivered.Add(got)
				}
			}
		}()
	}
	payload := string(make([]byte, 300))
	b.SetParallelism(8)
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			var cmds rueidis.Commands
			if broadcast {
				cmds = append(cmds, client.B().Xadd().Key(streamOf(0)).Id("*").FieldValue().FieldValue("e", payload).Build())
			} else {
				for i := 1; i <= k; i++ {
					cmds = append(cmds, client.B().Xadd().Key(streamOf(i)).Id("*").FieldValue().FieldValue("e", payload).Build())
				}
			}
			for _, r := range client.DoMulti(ctx, cmds...) {
				if err := r.Error(); err != nil {
					b.Error(err)
					return
				}
			}
		}
	})
	want := int64(b.N) * int64(k)
	require.Eventually(b, func() bool { return delivered.Load() >= want }, 60*time.Second, time.Millisecond)
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	wg.Wait()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "notif/s")
	b.ReportMetric(float64(read.Load())/float64(b.N), "reads/notif")
	b.ReportMetric(0, "ns/op")
	for i := 0; i < n; i++ {
		_ = client.Do(context.Background(), client.B().Del().Key(streamOf(i)).Build()).Error()
	}
}
