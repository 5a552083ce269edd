package rediscluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/redis/rueidis"
)

// process is one redis-server child process and the files it owns.
type process struct {
	port    int
	dir     string
	cluster bool
	binary  string
	extra   []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited and been waited for
}

func (p *process) addr() string { return "127.0.0.1:" + strconv.Itoa(p.port) }

func (p *process) args() []string {
	args := []string{
		"--port", strconv.Itoa(p.port),
		"--bind", "127.0.0.1",
		"--dir", p.dir,
		"--logfile", filepath.Join(p.dir, "redis.log"),
		"--save", "",
		"--appendonly", "no",
		"--protected-mode", "no",
		"--daemonize", "no",
	}
	if p.cluster {
		args = append(args,
			"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(p.dir, "nodes.conf"),
		)
	}
	return append(args, p.extra...)
}

// start launches the process; it is an error to start a running process.
func (p *process) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		select {
		case <-p.done:
		default:
			return fmt.Errorf("rediscluster: %s is already running", p.addr())
		}
	}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return fmt.Errorf("rediscluster: data dir: %w", err)
	}
	cmd := exec.Command(p.binary, p.args()...)
	// The servers die with the test process even when it is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("rediscluster: start %s: %w", p.addr(), err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait() // exit status is expected to be non-zero after a kill
		close(done)
	}()
	p.cmd, p.done = cmd, done
	return nil
}

// signal sends sig to the running process; it returns the channel closed at exit.
func (p *process) signal(sig syscall.Signal) (<-chan struct{}, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return nil, fmt.Errorf("rediscluster: %s was never started", p.addr())
	}
	select {
	case <-p.done:
		return p.done, nil
	default:
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return nil, fmt.Errorf("rediscluster: signal %s: %w", p.addr(), err)
	}
	return p.done, nil
}

// stop sends sig and waits for the process to exit, killing it after timeout.
func (p *process) stop(sig syscall.Signal, timeout time.Duration) error {
	done, err := p.signal(sig)
	if err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-time.After(timeout):
	}
	if _, err := p.signal(syscall.SIGKILL); err != nil {
		return err
	}
	<-done
	return nil
}

func (p *process) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// client opens a single-connection admin client to this process only.
func (p *process) client() (rueidis.Client, error) {
	return rueidis.NewClient(rueidis.ClientOption{
		InitAddress:       []string{p.addr()},
		ForceSingleClient: true,
		DisableCache:      true,
		DisableRetry:      true,
		Dialer:            netDialer,
		ConnWriteTimeout:  2 * time.Second,
	})
}

// waitPing waits until the process answers PING or ctx ends.
func (p *process) waitPing(ctx context.Context) error {
	return poll(ctx, func() error {
		if !p.running() {
			return permanentError{fmt.Errorf("rediscluster: %s exited (see %s)", p.addr(), filepath.Join(p.dir, "redis.log"))}
		}
		c, err := p.client()
		if err != nil {
			return err
		}
		defer c.Close()
		return c.Do(ctx, c.B().Ping().Build()).Error()
	})
}
