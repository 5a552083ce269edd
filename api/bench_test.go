package api

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
)

// BenchmarkPublishFanout measures single-node WebSocket fan-out: N
// subscriber connections on one room (1 and 1,000), one publisher sending
// realtime:publish and waiting for every subscriber to receive each message
// before the next. It reports the publish→notification latency of every
// delivered notification (p50, p99) and the notifications delivered per
// second.
//
//	go test -run '^$' -bench PublishFanout -benchtime 200x ./api/
func BenchmarkPublishFanout(b *testing.B) {
	for _, subscribers := range []int{1, 1000} {
		b.Run(fmt.Sprintf("subscribers=%d", subscribers), func(b *testing.B) { benchFanout(b, subscribers) })
	}
}

func benchFanout(b *testing.B, subscribers int) {
	n := newTestNode(b, rediscluster.UniquePrefix(b), func(c *Config) { c.SendQueue = 1024 })
	ctx := context.Background()
	url := "ws" + strings.TrimPrefix(n.url, "http")

	var (
		received atomic.Int64
		target   atomic.Int64
		wave     = make(chan struct{}, 1)
		mu       sync.Mutex
		lat      []time.Duration
		wg       sync.WaitGroup
	)
	conns := make([]*websocket.Conn, subscribers)
	for i := range conns {
		c, _, err := websocket.Dial(ctx, url, nil)
		require.NoError(b, err)
		c.SetReadLimit(1 << 20)
		conns[i] = c
		sub := fmt.Sprintf(`{"controller":"realtime","action":"subscribe","index":"bench","collection":"c","body":{},"requestId":"s%d"}`, i)
		require.NoError(b, c.Write(ctx, websocket.MessageText, []byte(sub)))
		_, data, err := c.Read(ctx)
		require.NoError(b, err)
		require.Contains(b, string(data), `"roomId"`)
	}
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			defer func() {
				mu.Lock()
				lat = append(lat, local...)
				mu.Unlock()
			}()
			for {
				_, data, err := c.Read(ctx)
				if err != nil {
					return
				}
				// The send time is the body's "t"; a byte scan keeps the
				// client's CPU (shared with the server) low.
				t := sentAt(data)
				if t == 0 {
					continue
				}
				local = append(local, time.Duration(time.Now().UnixNano()-t))
				if received.Add(1) == target.Load() {
					wave <- struct{}{}
				}
			}
		}()
	}
	pub, _, err := websocket.Dial(ctx, url, nil)
	require.NoError(b, err)
	defer pub.CloseNow()
	go func() { // drain the publisher's responses
		for {
			if _, _, err := pub.Read(ctx); err != nil {
				return
			}
		}
	}()

	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		target.Store(int64(subscribers * (i + 1)))
		msg := fmt.Sprintf(`{"controller":"realtime","action":"publish","index":"bench","collection":"c","body":{"t":%d}}`, time.Now().UnixNano())
		require.NoError(b, pub.Write(ctx, websocket.MessageText, []byte(msg)))
		select {
		case <-wave:
		case <-time.After(30 * time.Second):
			b.Fatalf("wave %d: %d of %d notifications", i, received.Load(), target.Load())
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	for _, c := range conns {
		_ = c.CloseNow()
	}
	wg.Wait()
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}
	b.ReportMetric(float64(received.Load())/elapsed.Seconds(), "notifications/s")
}

// sentAt extracts the integer after `"t":` in a notification, 0 if none.
func sentAt(data []byte) int64 {
	i := bytes.Index(data, []byte(`"t":`))
	if i < 0 {
		return 0
	}
	rest := data[i+4:]
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	t, err := strconv.ParseInt(string(rest[:end]), 10, 64)
	if err != nil {
		return 0
	}
	return t
}
