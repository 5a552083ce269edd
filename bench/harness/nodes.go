package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNotReady is returned when a node does not become ready in time.
var ErrNotReady = errors.New("harness: node not ready")

// nodeSpec says how to start one streamcluster node.
type nodeSpec struct {
	Binary    string
	ID        string
	Redis     []string
	Prefix    string        // key prefix, one per phase so phases never share state
	Heartbeat time.Duration // 0 means the binary's default
	LogDir    string
}

// nodeProc is one running `streamcluster serve` process.
type nodeProc struct {
	spec    nodeSpec
	addr    string // 127.0.0.1:port
	cmd     *exec.Cmd
	exited  chan struct{}
	started time.Time
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startNode starts a node process. Its output goes to LogDir/<id>.log. The
// caller stops it with kill or stop.
func startNode(spec nodeSpec) (*nodeProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := []string{"serve", "--listen", addr, "--redis", strings.Join(spec.Redis, ","),
		"--node-id", spec.ID, "--prefix", spec.Prefix, "--log-level", "warn"}
	if spec.Heartbeat > 0 {
		args = append(args, "--heartbeat", spec.Heartbeat.String())
	}
	logf, err := os.Create(filepath.Join(spec.LogDir, spec.ID+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(spec.Binary, args...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the harness
	p := &nodeProc{spec: spec, addr: addr, cmd: cmd, exited: make(chan struct{}), started: time.Now()}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("harness: start %s: %w", spec.ID, err)
	}
	go func() { // owner: the process; ends when it exits
		_ = cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	return p, nil
}

// kill sends SIGKILL and waits for the process to exit.
func (p *nodeProc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// stop sends SIGTERM (graceful leave) and waits up to timeout, then kills.
func (p *nodeProc) stop(timeout time.Duration) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.exited:
	case <-t.C:
		p.kill()
	}
}

var httpClient = &http.Client{Timeout: 2 * time.Second}

// ready reports whether GET /_ready answers 200.
func (p *nodeProc) ready(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.addr+"/_ready", nil)
	if err != nil {
		return false
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// waitReady polls /_ready every 5 ms until it answers 200, the process
// exits, or timeout elapses.
func (p *nodeProc) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if p.ready(ctx) {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%w: %s exited (see %s.log)", ErrNotReady, p.spec.ID, p.spec.ID)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return fmt.Errorf("%w: %s after %s", ErrNotReady, p.spec.ID, timeout)
}

// members returns the ids in the node's GET /_plugin/cluster/status.
func (p *nodeProc) members(ctx context.Context) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.addr+"/_plugin/cluster/status", nil)
	if err != nil {
		return nil, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("harness: status of %s: HTTP %d", p.spec.ID, resp.StatusCode)
	}
	var env struct {
		Result struct {
			Current struct {
				ID string `json:"id"`
			} `json:"current"`
			Pool []struct {
				ID string `json:"id"`
			} `json:"pool"`
		} `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return nil, fmt.Errorf("harness: status of %s: %w", p.spec.ID, err)
	}
	ids := make([]string, 0, 1+len(env.Result.Pool))
	if env.Result.Current.ID != "" {
		ids = append(ids, env.Result.Current.ID)
	}
	for _, m := range env.Result.Pool {
		ids = append(ids, m.ID)
	}
	return ids, nil
}

// lists reports whether the node's status lists id.
func (p *nodeProc) lists(ctx context.Context, id string) (bool, error) {
	ids, err := p.members(ctx)
	if err != nil {
		return false, err
	}
	for _, m := range ids {
		if m == id {
			return true, nil
		}
	}
	return false, nil
}

// startNodes starts n nodes named <prefix>-n<i> and waits until every one is
// ready and lists all n members. On error the started nodes are killed.
func startNodes(ctx context.Context, base nodeSpec, n int, timeout time.Duration) ([]*nodeProc, error) {
	nodes := make([]*nodeProc, 0, n)
	fail := func(err error) ([]*nodeProc, error) {
		for _, p := range nodes {
			p.kill()
		}
		return nil, err
	}
	for i := range n {
		spec := base
		spec.ID = base.Prefix + "-n" + strconv.Itoa(i)
		p, err := startNode(spec)
		if err != nil {
			return fail(err)
		}
		nodes = append(nodes, p)
	}
	for _, p := range nodes {
		if err := p.waitReady(ctx, timeout); err != nil {
			return fail(err)
		}
	}
	deadline := time.Now().Add(timeout)
	for _, p := range nodes {
		for {
			ids, err := p.members(ctx)
			if err == nil && len(ids) == n {
				break
			}
			if time.Now().After(deadline) {
				return fail(fmt.Errorf("%w: %s lists %v, want %d members (err %v)", ErrNotReady, p.spec.ID, ids, n, err))
			}
			select {
			case <-ctx.Done():
				return fail(ctx.Err())
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	return nodes, nil
}

// stopNodes stops every node gracefully, in parallel.
func stopNodes(nodes []*nodeProc) {
	done := make(chan struct{}, len(nodes))
	for _, p := range nodes {
		go func() { // owner: stopNodes, which waits below
			p.stop(5 * time.Second)
			done <- struct{}{}
		}()
	}
	for range nodes {
		<-done
	}
}
