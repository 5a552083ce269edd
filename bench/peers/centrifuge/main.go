// Command centrifuge-peer is a peer of the Streamcluster benchmark (issue 7,
// workload 7): Centrifuge with its Redis broker on the harness' Redis
// Cluster, measured with the method of
// /work/shared/reference/peer-baselines.md. It has its own go.mod so the
// product's stays clean.
//
//	centrifuge-peer server --port P --redis 127.0.0.1:7001,...
//	centrifuge-peer bench  --redis 127.0.0.1:7001,... --ports P1,P2 --rates 1000,5000 --secs 2 --drain 1
//
// bench starts one server per port (children killed on exit), subscribes
// one centrifuge-go JSON client on the second server to a channel, then for
// each rate asks the first server to publish at that rate (pacer waking
// every 200 µs, stamp = wall clock at the tick that finds the message due,
// 64 goroutines calling node.Publish). It prints on stdout
// {"runs":[{"rate","sent","secs","latenciesUs":[...]}]}. Loopback only;
// every loop is bounded by the rates and --secs.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/centrifugal/centrifuge"
	centrifugego "github.com/centrifugal/centrifuge-go"
)

type message struct {
	R string `json:"r"`
	S int    `json:"s"`
	T int64  `json:"t"` // unix ns
	P string `json:"p"`
}

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: centrifuge-peer server|bench ...")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	port := fs.Int("port", 0, "server port")
	redis := fs.String("redis", "", "Redis Cluster addresses")
	ports := fs.String("ports", "", "server ports (bench)")
	rates := fs.String("rates", "1000", "offered loads, msg/s")
	secs := fs.Float64("secs", 2, "window per rate, s")
	drain := fs.Float64("drain", 1, "straggler wait, s")
	prefix := fs.String("prefix", "scbench", "broker key prefix")
	partitions := fs.Int("sharded-partitions", 0, "RedisBrokerConfig.NumShardedPubSubPartitions (0: plain PUBLISH, the default)")
	_ = fs.Parse(os.Args[2:])
	var err error
	switch os.Args[1] {
	case "server":
		err = server(*port, strings.Split(*redis, ","), *prefix, *partitions)
	case "bench":
		err = bench(*redis, strings.Split(*ports, ","), *rates, *secs, *drain, *prefix, *partitions)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		log.Fatal(err)
	}
}

func server(port int, redis []string, prefix string, partitions int) error {
	node, err := centrifuge.New(centrifuge.Config{LogLevel: centrifuge.LogLevelError})
	if err != nil {
		return err
	}
	shard, err := centrifuge.NewRedisShard(node, centrifuge.RedisShardConfig{ClusterAddresses: redis})
	if err != nil {
		return err
	}
	broker, err := centrifuge.NewRedisBroker(node, centrifuge.RedisBrokerConfig{Prefix: prefix,
		Shards: []*centrifuge.RedisShard{shard}, NumShardedPubSubPartitions: partitions})
	if err != nil {
		return err
	}
	node.SetBroker(broker)
	node.OnConnecting(func(context.Context, centrifuge.ConnectEvent) (centrifuge.ConnectReply, error) {
		return centrifuge.ConnectReply{Credentials: &centrifuge.Credentials{UserID: "bench"}}, nil
	})
	node.OnConnect(func(c *centrifuge.Client) {
		c.OnSubscribe(func(_ centrifuge.SubscribeEvent, cb centrifuge.SubscribeCallback) {
			cb(centrifuge.SubscribeReply{}, nil)
		})
	})
	if err := node.Run(); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/connection/websocket", centrifuge.NewWebsocketHandler(node, centrifuge.WebsocketConfig{}))
	mux.HandleFunc("/pub", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		rate, _ := strconv.Atoi(q.Get("rate"))
		s, _ := strconv.ParseFloat(q.Get("secs"), 64)
		sent, took := publish(node, q.Get("ch"), q.Get("run"), rate, time.Duration(s*float64(time.Second)))
		_ = json.NewEncoder(w).Encode(map[string]any{"sent": sent, "secs": took.Seconds()})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	return http.ListenAndServe("127.0.0.1:"+strconv.Itoa(port), mux)
}

// publish paces rate msg/s on ch for d through 64 publishing goroutines.
func publish(node *centrifuge.Node, ch, run string, rate int, d time.Duration) (int, time.Duration) {
	jobs := make(chan []byte, 4096)
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() { // owner: publish, which waits below
			defer wg.Done()
			for b := range jobs {
				_, _ = node.Publish(ch, b)
			}
		}()
	}
	pad := strings.Repeat("x", 64)
	total := int(float64(rate) * d.Seconds())
	start := time.Now()
	sent := 0
	for sent < total {
		due := min(total, int(float64(rate)*time.Since(start).Seconds()))
		if due > sent {
			t := time.Now().UnixNano()
			for ; sent < due; sent++ {
				b, _ := json.Marshal(message{R: run, S: sent, T: t, P: pad})
				jobs <- b
			}
		}
		if time.Since(start) > d+time.Second {
			break
		}
		time.Sleep(200 * time.Microsecond)
	}
	close(jobs)
	wg.Wait()
	return sent, time.Since(start)
}

func bench(redis string, ports []string, rates string, secs, drain float64, prefix string, partitions int) error {
	var kids []*exec.Cmd
	defer func() {
		for _, k := range kids {
			_ = k.Process.Kill()
			_ = k.Wait()
		}
	}()
	for _, p := range ports {
		args := []string{"server", "--port", p, "--redis", redis, "--prefix", prefix, "--sharded-partitions", strconv.Itoa(partitions)}
		k := exec.Command(os.Args[0], args...)
		k.Stderr = os.Stderr
		k.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := k.Start(); err != nil {
			return err
		}
		kids = append(kids, k)
	}
	for _, p := range ports {
		if err := waitUp("http://127.0.0.1:"+p+"/", 20*time.Second); err != nil {
			return err
		}
	}
	subPort := ports[min(1, len(ports)-1)]
	c := centrifugego.NewJsonClient("ws://127.0.0.1:"+subPort+"/connection/websocket", centrifugego.Config{})
	defer c.Close()
	if err := c.Connect(); err != nil {
		return err
	}
	ch := "bench" + strconv.FormatInt(time.Now().UnixNano(), 36)
	sub, err := c.NewSubscription(ch)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	run, lat := "", []float64{}
	sub.OnPublication(func(e centrifugego.PublicationEvent) {
		now := time.Now().UnixNano()
		var m message
		if json.Unmarshal(e.Data, &m) != nil {
			return
		}
		mu.Lock()
		if m.R == run {
			lat = append(lat, float64(now-m.T)/1e3)
		}
		mu.Unlock()
	})
	subscribed := make(chan struct{})
	sub.OnSubscribed(func(centrifugego.SubscribedEvent) { close(subscribed) })
	if err := sub.Subscribe(); err != nil {
		return err
	}
	select {
	case <-subscribed:
	case <-time.After(10 * time.Second):
		return errors.New("not subscribed after 10s")
	}
	pub := func(rate int, s float64, r string) (int, float64, error) {
		mu.Lock()
		run, lat = r, nil
		mu.Unlock()
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%s/pub?ch=%s&rate=%d&secs=%g&run=%s", ports[0], ch, rate, s, r))
		if err != nil {
			return 0, 0, err
		}
		defer resp.Body.Close()
		var out struct {
			Sent int     `json:"sent"`
			Secs float64 `json:"secs"`
		}
		return out.Sent, out.Secs, json.NewDecoder(resp.Body).Decode(&out)
	}
	if _, _, err := pub(1000, 1, "warm"); err != nil {
		return err
	}
	type result struct {
		Rate        int       `json:"rate"`
		Sent        int       `json:"sent"`
		Secs        float64   `json:"secs"`
		LatenciesUs []float64 `json:"latenciesUs"`
	}
	var results []result
	for _, f := range strings.Split(rates, ",") {
		rate, err := strconv.Atoi(f)
		if err != nil {
			return err
		}
		r := "r" + f
		sent, took, err := pub(rate, secs, r)
		if err != nil {
			return err
		}
		deadline := time.Now().Add(time.Duration(drain * float64(time.Second)))
		for {
			mu.Lock()
			n := len(lat)
			mu.Unlock()
			if n >= sent || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		mu.Lock()
		results = append(results, result{Rate: rate, Sent: sent, Secs: took, LatenciesUs: lat})
		run, lat = "", nil
		mu.Unlock()
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"runs": results})
}

func waitUp(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not up after %s", url, timeout)
}
