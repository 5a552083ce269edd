// Command stack starts what the end-to-end suite runs against: a Redis
// Cluster on free loopback ports and SC_E2E_NODES streamcluster nodes
// (default 3) started from the binary named by SC_BINARY (built with
// `go build` when unset), all with --heartbeat SC_E2E_HEARTBEAT (default
// 300ms, so the eviction timeout is 3 × that).
//
// It prints "CONTROL <port>" (the fault-control HTTP server, below) and
// then "READY <port>" (the API port of node 0) once every node answers
// /_ready, and stops everything when its standard input closes or it
// receives SIGINT/SIGTERM. Node logs go to one file per node in a
// directory named on standard error (SC_E2E_LOGS, default a new temporary
// directory, kept after exit).
//
// The control server listens on 127.0.0.1 and answers JSON:
//
//	GET  /nodes             every node started so far: index, id, port, pid, state
//	POST /nodes             start one more node, wait until it is ready
//	POST /nodes/{i}/kill    SIGKILL node i and wait for its exit
//	POST /nodes/{i}/restart SIGKILL node i if it runs, start it again with the
//	                        same id and port, wait until it is ready
//	POST /nodes/{i}/stop    SIGSTOP node i
//	POST /nodes/{i}/cont    SIGCONT node i
//	GET  /nodes/{i}/ready   status code and body of node i's /_ready
//	GET  /master?key=K      index of the Redis process owning K's slot
//	POST /failover?key=K    CLUSTER FAILOVER of K's master (waits for the new one)
//	POST /killmaster?key=K  SIGKILL K's master, wait for its replica's promotion,
//	                        restart the killed process (it rejoins as a replica)
//	                        and wait until the Redis Cluster is healthy
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	rediscluster "github.com/streamcluster/streamcluster/redis-cluster"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "stack:", err)
		os.Exit(1)
	}
}

// Node states reported by GET /nodes.
const (
	stateRunning = "running"
	stateStopped = "stopped"
	stateExited  = "exited"
)

type node struct {
	Index int    `json:"index"`
	ID    string `json:"id"`
	Port  int    `json:"port"`
	PID   int    `json:"pid"`
	State string `json:"state"`

	cmd    *exec.Cmd
	log    *os.File
	exited chan struct{} // closed when the process has been waited for
}

// stack owns the Redis Cluster and the node processes.
type stack struct {
	bin       string
	heartbeat string
	logDir    string
	cluster   *rediscluster.Cluster

	mu    sync.Mutex
	nodes []*node
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	count := 3
	if v := os.Getenv("SC_E2E_NODES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("SC_E2E_NODES=%q: want a positive integer", v)
		}
		count = n
	}
	heartbeat := os.Getenv("SC_E2E_HEARTBEAT")
	if heartbeat == "" {
		heartbeat = "300ms"
	}
	logDir := os.Getenv("SC_E2E_LOGS")
	if logDir == "" {
		d, err := os.MkdirTemp("", "sc-e2e-logs-")
		if err != nil {
			return err
		}
		logDir = d
	} else if err := os.MkdirAll(logDir, 0o755); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "stack: node logs in", logDir)

	bin := os.Getenv("SC_BINARY")
	if bin == "" {
		dir, err := os.MkdirTemp("", "sc-e2e-bin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		bin = filepath.Join(dir, "streamcluster")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/streamcluster/streamcluster/cmd/streamcluster")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build: %w", err)
		}
	}

	startCtx, cancel := context.WithTimeout(ctx, 90*time.Second)
	cluster, err := rediscluster.Start(startCtx, rediscluster.Options{})
	cancel()
	if err != nil {
		return fmt.Errorf("redis cluster: %w", err)
	}
	defer cluster.Close()

	s := &stack{bin: bin, heartbeat: heartbeat, logDir: logDir, cluster: cluster}
	defer s.stopAll()

	var first *node
	for i := 0; i < count; i++ {
		n, err := s.startNode(ctx)
		if err != nil {
			return err
		}
		if first == nil {
			first = n
		}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s.handler(ctx)}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	defer func() {
		shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutCtx)
		<-served
	}()

	fmt.Printf("CONTROL %d\n", ln.Addr().(*net.TCPAddr).Port)
	fmt.Printf("READY %d\n", first.Port)

	stdinClosed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
		close(stdinClosed)
	}()
	select {
	case <-ctx.Done():
	case <-stdinClosed:
	}
	return nil
}

// startNode starts one more node and waits until it is ready.
func (s *stack) startNode(ctx context.Context) (*node, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	index := len(s.nodes)
	s.nodes = append(s.nodes, nil)
	s.mu.Unlock()
	return s.launch(ctx, index, "e2e-node-"+strconv.Itoa(index), port)
}

// restartNode kills node i if it still runs and starts it again with the
// same id and port.
func (s *stack) restartNode(ctx context.Context, old *node) (*node, error) {
	_ = old.cmd.Process.Signal(syscall.SIGCONT)
	_ = old.cmd.Process.Kill()
	<-old.exited
	return s.launch(ctx, old.Index, old.ID, old.Port)
}

// launch starts a node process as s.nodes[index] and waits until it is
// ready. Its log is appended to the file of its id.
func (s *stack) launch(ctx context.Context, index int, id string, port int) (*node, error) {
	n := &node{Index: index, ID: id, Port: port, State: stateRunning, exited: make(chan struct{})}
	var err error
	n.log, err = os.OpenFile(filepath.Join(s.logDir, n.ID+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	n.cmd = exec.Command(s.bin, "serve",
		"--listen", "127.0.0.1:"+strconv.Itoa(port),
		"--redis", strings.Join(s.cluster.Addrs(), ","),
		"--node-id", n.ID,
		"--heartbeat", s.heartbeat)
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	if err := n.cmd.Start(); err != nil {
		n.log.Close()
		return nil, fmt.Errorf("start %s: %w", n.ID, err)
	}
	n.PID = n.cmd.Process.Pid
	go func() {
		_ = n.cmd.Wait()
		s.mu.Lock()
		n.State = stateExited
		s.mu.Unlock()
		n.log.Close()
		close(n.exited)
	}()
	s.mu.Lock()
	s.nodes[index] = n
	s.mu.Unlock()

	if err := waitReady(ctx, n); err != nil {
		return nil, fmt.Errorf("%s: %w", n.ID, err)
	}
	return n, nil
}

// stopAll sends SIGTERM to every live node (SIGCONT first, for stopped
// ones) and waits for them, killing those still alive after 15s.
func (s *stack) stopAll() {
	s.mu.Lock()
	nodes := append([]*node(nil), s.nodes...)
	s.mu.Unlock()
	live := nodes[:0]
	for _, n := range nodes {
		if n != nil { // nil: a node whose start failed
			live = append(live, n)
		}
	}
	for _, n := range live {
		_ = n.cmd.Process.Signal(syscall.SIGCONT)
		_ = n.cmd.Process.Signal(syscall.SIGTERM)
	}
	deadline := time.After(15 * time.Second)
	for _, n := range live {
		select {
		case <-n.exited:
		case <-deadline:
			_ = n.cmd.Process.Kill()
			<-n.exited
		}
	}
}

func (s *stack) node(r *http.Request) (*node, error) {
	i, err := strconv.Atoi(r.PathValue("i"))
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || i < 0 || i >= len(s.nodes) || s.nodes[i] == nil {
		return nil, fmt.Errorf("no node %q", r.PathValue("i"))
	}
	return s.nodes[i], nil
}

func (s *stack) handler(ctx context.Context) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /nodes", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		nodes := []*node{}
		for _, n := range s.nodes {
			if n != nil {
				nodes = append(nodes, n)
			}
		}
		reply(w, nodes, nil)
	})
	mux.HandleFunc("POST /nodes", func(w http.ResponseWriter, r *http.Request) {
		n, err := s.startNode(r.Context())
		s.mu.Lock()
		defer s.mu.Unlock()
		reply(w, n, err)
	})
	mux.HandleFunc("POST /nodes/{i}/restart", func(w http.ResponseWriter, r *http.Request) {
		old, err := s.node(r)
		var n *node
		if err == nil {
			n, err = s.restartNode(r.Context(), old)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		reply(w, n, err)
	})
	signal := func(sig syscall.Signal, state string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			n, err := s.node(r)
			if err == nil {
				err = n.cmd.Process.Signal(sig)
			}
			if err == nil && sig == syscall.SIGKILL {
				<-n.exited
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if err == nil {
				n.State = state
			}
			reply(w, n, err)
		}
	}
	mux.HandleFunc("POST /nodes/{i}/kill", signal(syscall.SIGKILL, stateExited))
	mux.HandleFunc("POST /nodes/{i}/stop", signal(syscall.SIGSTOP, stateStopped))
	mux.HandleFunc("POST /nodes/{i}/cont", signal(syscall.SIGCONT, stateRunning))
	mux.HandleFunc("GET /nodes/{i}/ready", func(w http.ResponseWriter, r *http.Request) {
		n, err := s.node(r)
		if err != nil {
			reply(w, nil, err)
			return
		}
		code, body := probe(r.Context(), n.Port)
		reply(w, map[string]any{"status": code, "body": body}, nil)
	})
	mux.HandleFunc("GET /master", func(w http.ResponseWriter, r *http.Request) {
		i, err := s.cluster.MasterFor(r.Context(), r.URL.Query().Get("key"))
		reply(w, map[string]int{"master": i}, err)
	})
	mux.HandleFunc("POST /failover", func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.Query().Get("key")
		fctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		old, err := s.cluster.MasterFor(fctx, key)
		if err != nil {
			reply(w, nil, err)
			return
		}
		now, err := s.cluster.Failover(fctx, key)
		reply(w, map[string]int{"old": old, "new": now}, err)
	})
	mux.HandleFunc("POST /killmaster", func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.Query().Get("key")
		kctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		old, err := s.cluster.MasterFor(kctx, key)
		if err != nil {
			reply(w, nil, err)
			return
		}
		if err := s.cluster.Kill(old); err != nil {
			reply(w, nil, err)
			return
		}
		start := time.Now()
		now, err := s.cluster.WaitMasterChange(kctx, key, old)
		if err != nil {
			reply(w, nil, err)
			return
		}
		promoted := time.Since(start)
		if err := s.cluster.Restart(kctx, old); err != nil {
			reply(w, nil, err)
			return
		}
		err = s.cluster.WaitHealthy(kctx)
		reply(w, map[string]any{"old": old, "new": now, "promotedMs": promoted.Milliseconds()}, err)
	})
	return mux
}

// reply writes v as JSON, or err as {"error": ...} with status 500.
func reply(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		v = map[string]string{"error": err.Error()}
	}
	_ = json.NewEncoder(w).Encode(v)
}

// probe returns the status code and body of GET /_ready on port (0 when
// the node does not answer within a second).
func probe(ctx context.Context, port int) (int, string) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(port)+"/_ready", nil)
	if err != nil {
		return 0, err.Error()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(body)
}

func waitReady(ctx context.Context, n *node) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		if code, _ := probe(ctx, n.Port); code == http.StatusOK {
			return nil
		}
		select {
		case <-n.exited:
			return errors.New("node exited before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("node not ready: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
