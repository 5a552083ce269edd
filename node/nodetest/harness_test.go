package nodetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/streamcluster/streamcluster/internal/testbin"
	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
)

var (
	testCluster *rediscluster.Cluster
	binary      string
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	bin, cleanup, err := testbin.Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cleanup()
	binary = bin
	return rediscluster.RunTests(m, &testCluster)
}

// syncBuffer is a goroutine-safe log sink for a child process.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is one `streamcluster serve` process.
type proc struct {
	t    *testing.T
	id   string
	addr string
	args []string
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan struct{}
	err  error // exit status, valid after done
}

// cluster describes the nodes of one test.
type cluster struct {
	t         *testing.T
	prefix    string
	heartbeat time.Duration
	extra     []string
}

func newCluster(t *testing.T, heartbeat time.Duration, extra ...string) *cluster {
	return &cluster{t: t, prefix: rediscluster.UniquePrefix(t), heartbeat: heartbeat, extra: extra}
}

func (c *cluster) timeout() time.Duration { return 3 * c.heartbeat }

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// start starts node id and waits until it serves HTTP.
func (c *cluster) start(id string, extra ...string) *proc {
	t := c.t
	t.Helper()
	p := &proc{t: t, id: id, addr: freeAddr(t), log: &syncBuffer{}}
	p.args = append([]string{"serve",
		"--listen", p.addr,
		"--redis", strings.Join(testCluster.Addrs(), ","),
		"--prefix", c.prefix,
		"--node-id", id,
		"--heartbeat", c.heartbeat.String(),
		"--log-level", "debug",
	}, append(append([]string{}, c.extra...), extra...)...)
	p.launch()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() || os.Getenv("SC_TEST_LOGS") != "" {
			t.Logf("log of %s:\n%s", p.id, p.log.String())
		}
	})
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + p.addr + "/_healthcheck")
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return true
	}, 10*time.Second, 20*time.Millisecond, "node %s does not serve", id)
	return p
}

func (p *proc) launch() {
	p.cmd = exec.Command(binary, p.args...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	require.NoError(p.t, p.cmd.Start())
	p.done = make(chan struct{})
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
}

// restart starts the same node (same id and address) again after it exited.
func (p *proc) restart() {
	<-p.done
	p.launch()
}

func (p *proc) signal(sig syscall.Signal) {
	require.NoError(p.t, p.cmd.Process.Signal(sig))
}

func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	_ = p.cmd.Process.Kill()
	<-p.done
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(timeout time.Duration) int {
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("node %s did not exit within %s", p.id, timeout)
	}
	if p.err == nil {
		return 0
	}
	if ee, ok := p.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

type member struct {
	ID                    string  `json:"id"`
	Address               string  `json:"address"`
	Ready                 bool    `json:"ready"`
	Incarnation           uint64  `json:"incarnation"`
	SecondsSinceHeartbeat float64 `json:"secondsSinceHeartbeat"`
	ControlLag            int64   `json:"controlLag"`
}

type status struct {
	Count   int      `json:"count"`
	Current member   `json:"current"`
	Pool    []member `json:"pool"`
}

var httpClient = &http.Client{Timeout: 2 * time.Second}

func (p *proc) get(path string, out any) (int, error) {
	resp, err := httpClient.Get("http://" + p.addr + path)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var env struct {
		Result json.RawMessage `json:"result"`
		Status int             `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return resp.StatusCode, err
	}
	if env.Status != resp.StatusCode {
		return resp.StatusCode, fmt.Errorf("envelope status %d, HTTP %d", env.Status, resp.StatusCode)
	}
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(env.Result, out); err != nil {
			return resp.StatusCode, err
		}
	}
	return resp.StatusCode, nil
}

// status returns the node's status, or the zero status when it does not answer.
func (p *proc) status() status {
	var st status
	if _, err := p.get("/_plugin/cluster/status", &st); err != nil {
		return status{}
	}
	return st
}

// health returns the HTTP status of the health route (0 when unreachable).
func (p *proc) health() int {
	code, err := p.get("/_plugin/cluster/health", nil)
	if err != nil {
		return 0
	}
	return code
}

// ids lists the member ids in st, current first.
func (st status) ids() []string {
	out := []string{st.Current.ID}
	for _, m := range st.Pool {
		out = append(out, m.ID)
	}
	return out
}

func (st status) incarnationOf(id string) uint64 {
	if st.Current.ID == id {
		return st.Current.Incarnation
	}
	for _, m := range st.Pool {
		if m.ID == id {
			return m.Incarnation
		}
	}
	return 0
}

// allReady reports whether st lists exactly want and every member is ready.
func (st status) allReady(want ...string) bool {
	if st.Count != len(want) || len(st.ids()) != len(want) {
		return false
	}
	seen := map[string]bool{}
	for _, id := range st.ids() {
		seen[id] = true
	}
	for _, id := range want {
		if !seen[id] {
			return false
		}
	}
	if !st.Current.Ready {
		return false
	}
	for _, m := range st.Pool {
		if !m.Ready {
			return false
		}
	}
	return true
}

// waitAllReady waits until every proc lists exactly the ids of procs, all ready.
func waitAllReady(t *testing.T, within time.Duration, procs ...*proc) {
	t.Helper()
	var ids []string
	for _, p := range procs {
		ids = append(ids, p.id)
	}
	require.Eventually(t, func() bool {
		for _, p := range procs {
			if !p.status().allReady(ids...) || p.health() != http.StatusOK {
				return false
			}
		}
		return true
	}, within, 20*time.Millisecond, "nodes %v not all ready with each other", ids)
}

func redisCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// metric returns the value of the sample whose line starts with sample
// (metric name with labels, e.g. `streamcluster_cluster_members{node="a"}`)
// on p's /metrics, and whether it was found.
func (p *proc) metric(sample string) (float64, bool) {
	resp, err := httpClient.Get("http://" + p.addr + "/metrics")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return 0, false
	}
	for _, line := range strings.Split(buf.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, sample+" "); ok {
			var v float64
			if _, err := fmt.Sscan(rest, &v); err == nil {
				return v, true
			}
		}
	}
	return 0, false
}

// probe runs `streamcluster health --listen <p.addr>` and returns its exit code.
func (p *proc) probe() int {
	cmd := exec.Command(binary, "health", "--listen", p.addr, "--timeout", "2s")
	err := cmd.Run()
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	p.t.Fatalf("streamcluster health: %v", err)
	return -1
}
