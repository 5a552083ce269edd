package rediscluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/rueidis"
)

// Defaults of Options.
const (
	// DefaultMasters is the number of masters of a cluster.
	DefaultMasters = 3
	// DefaultReplicasPerMaster is the number of replicas of each master.
	DefaultReplicasPerMaster = 1
	// DefaultNodeTimeout is cluster-node-timeout: how long a master may be
	// unreachable before its replica takes over. Redis' own default is 15 s;
	// tests want failovers within a few seconds.
	DefaultNodeTimeout = 2 * time.Second
	// DefaultStopTimeout is how long Stop waits after SIGTERM before SIGKILL.
	DefaultStopTimeout = 5 * time.Second
)

var netDialer = net.Dialer{Timeout: 2 * time.Second}

// Options configures a cluster or a standalone server. The zero value is
// ready to use.
type Options struct {
	// Dir holds one sub-directory per process (config, logs). Empty means a
	// new temporary directory, removed by Close.
	Dir string
	// RedisServer is the redis-server binary. Empty means "redis-server"
	// from PATH.
	RedisServer string
	// Masters and ReplicasPerMaster size a cluster (defaults 3 and 1).
	Masters           int
	ReplicasPerMaster int
	// NodeTimeout is cluster-node-timeout (default DefaultNodeTimeout).
	NodeTimeout time.Duration
	// Ports, when set, are used instead of free ports; there must be one
	// per process.
	Ports []int
	// ExtraArgs are appended to every redis-server command line.
	ExtraArgs []string
}

// Cluster is a set of running redis-server processes. Its methods are safe
// for concurrent use.
type Cluster struct {
	cluster  bool
	masters  int
	procs    []*process
	dir      string
	ownedDir bool

	closeOnce sync.Once
	closeErr  error
}

// Start starts a Redis Cluster (three masters and three replicas by default)
// on free loopback ports and returns once every slot is served, every
// replica is attached and cluster_state is ok everywhere.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Masters <= 0 {
		opts.Masters = DefaultMasters
	}
	if opts.ReplicasPerMaster < 0 {
		return nil, fmt.Errorf("rediscluster: ReplicasPerMaster %d must not be negative", opts.ReplicasPerMaster)
	}
	if opts.ReplicasPerMaster == 0 {
		opts.ReplicasPerMaster = DefaultReplicasPerMaster
	}
	if opts.NodeTimeout <= 0 {
		opts.NodeTimeout = DefaultNodeTimeout
	}
	n := opts.Masters * (1 + opts.ReplicasPerMaster)
	c, err := newCluster(opts, n, true)
	if err != nil {
		return nil, err
	}
	if err := c.bootstrap(ctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

// StartStandalone starts one standalone Redis server on a free loopback port.
func StartStandalone(ctx context.Context, opts Options) (*Cluster, error) {
	c, err := newCluster(opts, 1, false)
	if err != nil {
		return nil, err
	}
	if err := c.procs[0].start(); err != nil {
		_ = c.Close()
		return nil, err
	}
	if err := c.procs[0].waitPing(ctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

func newCluster(opts Options, n int, cluster bool) (*Cluster, error) {
	binary := opts.RedisServer
	if binary == "" {
		binary = "redis-server"
	}
	path, err := exec.LookPath(binary)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoRedisServer, err)
	}
	ports := opts.Ports
	if len(ports) == 0 {
		if ports, err = freePorts(n, cluster); err != nil {
			return nil, err
		}
	}
	if len(ports) != n {
		return nil, fmt.Errorf("rediscluster: %d ports given for %d processes", len(ports), n)
	}
	c := &Cluster{cluster: cluster, masters: opts.Masters, dir: opts.Dir}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "rediscluster-"); err != nil {
			return nil, fmt.Errorf("rediscluster: temp dir: %w", err)
		}
		c.ownedDir = true
	}
	extra := append([]string(nil), opts.ExtraArgs...)
	if cluster {
		extra = append(extra, "--cluster-node-timeout", strconv.FormatInt(opts.NodeTimeout.Milliseconds(), 10))
	}
	for _, port := range ports {
		c.procs = append(c.procs, &process{
			port:    port,
			dir:     fmt.Sprintf("%s/%d", c.dir, port),
			cluster: cluster,
			binary:  path,
			extra:   extra,
		})
	}
	return c, nil
}

// Addrs returns the address of every process, masters first.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.procs))
	for i, p := range c.procs {
		addrs[i] = p.addr()
	}
	return addrs
}

// Addr returns the address of process i.
func (c *Cluster) Addr(i int) string { return c.procs[i].addr() }

// Len returns the number of processes.
func (c *Cluster) Len() int { return len(c.procs) }

// IsCluster tells whether this is a Redis Cluster (false for standalone).
func (c *Cluster) IsCluster() bool { return c.cluster }

// Close kills every process and removes the temporary directory. It is
// idempotent.
func (c *Cluster) Close() error {
	c.closeOnce.Do(func() {
		var errs []error
		for _, p := range c.procs {
			if p.running() {
				// A paused process cannot handle SIGKILL until resumed? It can:
				// SIGKILL works on stopped processes too.
				errs = append(errs, p.stop(syscall.SIGKILL, DefaultStopTimeout))
			}
		}
		if c.ownedDir {
			errs = append(errs, os.RemoveAll(c.dir))
		}
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}

func (c *Cluster) proc(i int) (*process, error) {
	if i < 0 || i >= len(c.procs) {
		return nil, fmt.Errorf("%w: %d", ErrBadIndex, i)
	}
	return c.procs[i], nil
}

// Kill sends SIGKILL to process i and waits for it to exit.
func (c *Cluster) Kill(i int) error {
	p, err := c.proc(i)
	if err != nil {
		return err
	}
	return p.stop(syscall.SIGKILL, DefaultStopTimeout)
}

// Stop sends SIGTERM to process i and waits for it to exit (SIGKILL after
// DefaultStopTimeout).
func (c *Cluster) Stop(i int) error {
	p, err := c.proc(i)
	if err != nil {
		return err
	}
	return p.stop(syscall.SIGTERM, DefaultStopTimeout)
}

// Pause freezes process i with SIGSTOP; Resume continues it.
func (c *Cluster) Pause(i int) error {
	p, err := c.proc(i)
	if err != nil {
		return err
	}
	_, err = p.signal(syscall.SIGSTOP)
	return err
}

// Resume continues a process frozen by Pause.
func (c *Cluster) Resume(i int) error {
	p, err := c.proc(i)
	if err != nil {
		return err
	}
	_, err = p.signal(syscall.SIGCONT)
	return err
}

// Restart starts process i again (after Kill or Stop) with its previous
// configuration, and waits until it answers PING. A cluster node rejoins
// the cluster from its nodes.conf; call WaitHealthy to wait for the cluster.
func (c *Cluster) Restart(ctx context.Context, i int) error {
	p, err := c.proc(i)
	if err != nil {
		return err
	}
	if p.running() {
		if err := p.stop(syscall.SIGTERM, DefaultStopTimeout); err != nil {
			return err
		}
	}
	if err := p.start(); err != nil {
		return err
	}
	return p.waitPing(ctx)
}

// Running tells whether process i is running (a paused process is running).
func (c *Cluster) Running(i int) bool {
	p, err := c.proc(i)
	return err == nil && p.running()
}

// Client returns a rueidis client for the whole cluster (or the standalone
// server). The caller closes it.
func (c *Cluster) Client() (rueidis.Client, error) {
	return rueidis.NewClient(rueidis.ClientOption{
		InitAddress: c.Addrs(),
		Dialer:      netDialer,
	})
}

// freePorts finds n loopback ports that are free, and for a cluster also
// have their bus port (port + 10000) free.
func freePorts(n int, cluster bool) ([]int, error) {
	var ports []int
	var holds []net.Listener
	defer func() {
		for _, l := range holds {
			_ = l.Close()
		}
	}()
	for attempts := 0; len(ports) < n && attempts < 200; attempts++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("rediscluster: free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		if !cluster {
			holds, ports = append(holds, l), append(ports, port)
			continue
		}
		if port+10000 > 65535 {
			_ = l.Close()
			continue
		}
		bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000))
		if err != nil {
			_ = l.Close()
			continue
		}
		holds, ports = append(holds, l, bus), append(ports, port)
	}
	if len(ports) < n {
		return nil, errors.New("rediscluster: could not find enough free ports")
	}
	return ports, nil
}

// poll calls f until it succeeds or ctx ends, returning f's last error.
func poll(ctx context.Context, f func() error) error {
	const interval = 50 * time.Millisecond
	for {
		err := f()
		if err == nil {
			return nil
		}
		var perm permanentError
		if errors.As(err, &perm) {
			return perm.err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-time.After(interval):
		}
	}
}

// permanentError stops poll at once.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }

// infoField returns the value of field in an INFO or CLUSTER INFO reply.
// Over RESP3 these replies are verbatim strings that rueidis returns with
// their "txt:" format prefix.
func infoField(info, field string) string {
	info = strings.TrimPrefix(info, "txt:")
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	return ""
}
