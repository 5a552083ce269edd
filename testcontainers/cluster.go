package streamcluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Port is a node's clients' port: the Kuzzle API over HTTP and WebSocket
// and the health routes. It is the only port a node publishes.
const Port = "7512/tcp"

// LabelCluster labels every container and network of one Run with the
// cluster's random id, so leftovers can be found and removed.
const LabelCluster = "io.streamcluster.cluster"

const (
	redisProcesses = 6 // 3 masters + 3 replicas
	redisPort      = "6379"
	stopTimeout    = 15 * time.Second // graceful leave of a node
	pollInterval   = 200 * time.Millisecond
)

// Cluster is a running Redis Cluster and Streamcluster nodes. Its methods
// are safe for concurrent use; node indexes are 0-based.
type Cluster struct {
	opts   options
	image  string
	id     string
	secret string

	cli     *testcontainers.DockerClient
	backend *testcontainers.DockerNetwork // internal: nodes + Redis
	front   *testcontainers.DockerNetwork // published client ports
	redis   []*testcontainers.DockerContainer
	nodes   []*testcontainers.DockerContainer

	mu         sync.Mutex
	terminated bool
}

// Run starts a Redis Cluster (3 masters + 3 replicas) and the nodes from
// image, and returns once every node is ready (/_ready answers 200). On
// error it removes everything it started.
func Run(ctx context.Context, image string, opts ...Option) (*Cluster, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	c := &Cluster{
		opts:   o,
		image:  image,
		id:     randomID(4),
		secret: o.secret,
		redis:  make([]*testcontainers.DockerContainer, redisProcesses),
		nodes:  make([]*testcontainers.DockerContainer, o.nodes),
	}
	if c.secret == "" {
		c.secret = randomID(16)
	}
	if err := c.start(ctx); err != nil {
		return nil, errors.Join(err, c.Terminate(context.WithoutCancel(ctx)))
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.startupTimeout)
	defer cancel()
	var err error
	if c.cli, err = testcontainers.NewDockerClientWithOpts(ctx); err != nil {
		return fmt.Errorf("docker client: %w", err)
	}
	labels := c.labels()
	if c.backend, err = network.New(ctx, network.WithInternal(), network.WithLabels(labels)); err != nil {
		return fmt.Errorf("backend network: %w", err)
	}
	if c.front, err = network.New(ctx, network.WithLabels(labels)); err != nil {
		return fmt.Errorf("front network: %w", err)
	}
	if err := parallel(redisProcesses, func(i int) error { return c.startRedis(ctx, i) }); err != nil {
		return err
	}
	if err := c.createRedisCluster(ctx); err != nil {
		return err
	}
	// All nodes at once: with minimumNodes > 1 none is ready alone.
	if err := parallel(len(c.nodes), func(i int) error { return c.startNode(ctx, i) }); err != nil {
		return err
	}
	return parallel(len(c.nodes), func(i int) error { return c.WaitReady(ctx, i) })
}

func (c *Cluster) labels() map[string]string {
	l := map[string]string{LabelCluster: c.id}
	for k, v := range c.opts.labels {
		l[k] = v
	}
	return l
}

func (c *Cluster) startRedis(ctx context.Context, i int) error {
	ctr, err := testcontainers.Run(ctx, c.opts.redisImage,
		testcontainers.WithName(fmt.Sprintf("sc-%s-redis-%d", c.id, i+1)),
		testcontainers.WithLabels(c.labels()),
		network.WithNetwork([]string{redisHost(i)}, c.backend),
		testcontainers.WithCmd("redis-server", "--port", redisPort, "--protected-mode", "no",
			"--cluster-enabled", "yes", "--cluster-node-timeout", "5000",
			"--save", "", "--appendonly", "no"),
		testcontainers.WithWaitStrategy(wait.ForLog("Ready to accept connections")),
	)
	c.redis[i] = ctr // even on error: Terminate removes it
	if err != nil {
		return fmt.Errorf("redis %d: %w", i+1, err)
	}
	return nil
}

func redisHost(i int) string { return fmt.Sprintf("redis-%d", i+1) }

// createRedisCluster runs redis-cli --cluster create in the first Redis
// container, then waits until every process reports cluster_state:ok.
func (c *Cluster) createRedisCluster(ctx context.Context) error {
	args := []string{"redis-cli", "--cluster", "create"}
	for i, r := range c.redis {
		ip, err := r.ContainerIP(ctx)
		if err != nil || ip == "" {
			return fmt.Errorf("redis %d: no IP on the backend network: %w", i+1, err)
		}
		args = append(args, ip+":"+redisPort)
	}
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	if out, err := c.exec(ctx, c.redis[0], args...); err != nil {
		return fmt.Errorf("redis cluster create: %w: %s", err, out)
	}
	for {
		ok := 0
		for _, r := range c.redis {
			out, err := c.exec(ctx, r, "redis-cli", "cluster", "info")
			if err == nil && strings.Contains(out, "cluster_state:ok") {
				ok++
			}
		}
		if ok == len(c.redis) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redis cluster: %d/%d processes ok: %w", ok, len(c.redis), ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

func (c *Cluster) exec(ctx context.Context, ctr *testcontainers.DockerContainer, cmd ...string) (string, error) {
	code, r, err := ctr.Exec(ctx, cmd, tcexec.Multiplexed())
	if err != nil {
		return "", err
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	if code != 0 {
		return string(out), fmt.Errorf("%s: exit code %d", cmd[0], code)
	}
	return string(out), nil
}

func (c *Cluster) startNode(ctx context.Context, i int) error {
	env := map[string]string{
		"SC_NODE_ID":   c.NodeID(i),
		"SC_REDIS":     redisHost(0) + ":" + redisPort + "," + redisHost(1) + ":" + redisPort + "," + redisHost(2) + ":" + redisPort,
		"SC_HEARTBEAT": c.opts.heartbeat.String(),
		"SC_SECRET":    c.secret,
	}
	if c.opts.minimumNodes > 0 {
		env["SC_MINIMUM_NODES"] = fmt.Sprint(c.opts.minimumNodes)
	}
	if c.opts.storage != "" {
		env["SC_STORAGE"] = c.opts.storage
		env["SC_ES_URL"] = c.opts.esURL
	}
	custom := []testcontainers.ContainerCustomizer{
		testcontainers.WithName(fmt.Sprintf("sc-%s-%s", c.id, c.NodeID(i))),
		testcontainers.WithLabels(c.labels()),
		testcontainers.WithExposedPorts(Port),
		// front first: the published port lives there, so it stays
		// reachable while the node is cut off the backend.
		network.WithNetwork([]string{c.NodeID(i)}, c.front),
		network.WithNetwork([]string{c.NodeID(i)}, c.backend),
		// Liveness only: readiness needs the other nodes (minimumNodes).
		testcontainers.WithWaitStrategy(wait.ForHTTP("/_healthcheck").WithPort(Port).WithPollInterval(pollInterval)),
	}
	if c.opts.configFile != "" {
		const inNode = "/etc/streamcluster/kuzzlerc.json"
		env["SC_CONFIG"] = inNode
		custom = append(custom, testcontainers.WithFiles(testcontainers.ContainerFile{
			HostFilePath: c.opts.configFile, ContainerFilePath: inNode, FileMode: 0o644,
		}))
	}
	for k, v := range c.opts.env {
		env[k] = v
	}
	custom = append(custom, testcontainers.WithEnv(env))
	ctr, err := testcontainers.Run(ctx, c.image, custom...)
	c.nodes[i] = ctr
	if err != nil {
		return fmt.Errorf("%s: %w", c.NodeID(i), err)
	}
	return nil
}

// Len is the number of nodes.
func (c *Cluster) Len() int { return len(c.nodes) }

// NodeID is node i's id (SC_NODE_ID): "node-1", "node-2", …
func (c *Cluster) NodeID(i int) string { return fmt.Sprintf("node-%d", i+1) }

// Node is node i's container, for what the helpers below do not cover.
func (c *Cluster) Node(i int) *testcontainers.DockerContainer { return c.nodes[i] }

// Redis returns the Redis containers (3 masters + 3 replicas).
func (c *Cluster) Redis() []*testcontainers.DockerContainer { return c.redis }

// RedisAddrs are the Redis seed addresses as the nodes reach them on the
// backend network ("redis-1:6379", …).
func (c *Cluster) RedisAddrs() []string {
	addrs := make([]string, len(c.redis))
	for i := range c.redis {
		addrs[i] = redisHost(i) + ":" + redisPort
	}
	return addrs
}

// Network is the name of the internal backend network (nodes and Redis).
// Attach an Elasticsearch container to it for WithStorage.
func (c *Cluster) Network() string { return c.backend.Name }

// HTTPURL is node i's base URL from the host, e.g. http://127.0.0.1:32768.
// The mapped port is read anew on each call: it may change on Restart.
func (c *Cluster) HTTPURL(ctx context.Context, i int) (string, error) {
	return c.nodes[i].PortEndpoint(ctx, Port, "http")
}

// WebSocketURL is node i's WebSocket URL from the host (ws://…/); the
// Kuzzle API upgrades on any path.
func (c *Cluster) WebSocketURL(ctx context.Context, i int) (string, error) {
	u, err := c.nodes[i].PortEndpoint(ctx, Port, "ws")
	if err != nil {
		return "", err
	}
	return u + "/", nil
}

// HealthURL is node i's cluster health route (/_plugin/cluster/health:
// 200 "ok" when ready, 404 "ko" otherwise, as the Kuzzle cluster plugin).
func (c *Cluster) HealthURL(ctx context.Context, i int) (string, error) {
	u, err := c.HTTPURL(ctx, i)
	return u + "/_plugin/cluster/health", err
}

// ReadyURL is node i's readiness route (/_ready: 200 or 503).
func (c *Cluster) ReadyURL(ctx context.Context, i int) (string, error) {
	u, err := c.HTTPURL(ctx, i)
	return u + "/_ready", err
}

// Ready reports whether node i answers 200 on /_ready.
func (c *Cluster) Ready(ctx context.Context, i int) (bool, error) {
	u, err := c.ReadyURL(ctx, i)
	if err != nil {
		return false, err
	}
	code, _, err := get(ctx, u)
	if err != nil {
		return false, err
	}
	return code == http.StatusOK, nil
}

// WaitReady waits until node i is ready, within ctx and the startup timeout.
func (c *Cluster) WaitReady(ctx context.Context, i int) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.startupTimeout)
	defer cancel()
	var lastErr error
	for {
		ok, err := c.Ready(ctx, i)
		if ok {
			return nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready (last error: %v): %w", c.NodeID(i), lastErr, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

// Member is one node in a Status.
type Member struct {
	ID                    string  `json:"id"`
	Address               string  `json:"address"`
	Version               string  `json:"version"`
	Ready                 bool    `json:"ready"`
	Incarnation           uint64  `json:"incarnation"`
	SecondsSinceHeartbeat float64 `json:"secondsSinceHeartbeat"`
}

// Status is the result of a node's /_plugin/cluster/status route: the
// live members as that node sees them.
type Status struct {
	Count   int      `json:"count"`
	Current Member   `json:"current"`
	Pool    []Member `json:"pool"`
}

// Members lists the ids of Current and Pool.
func (s Status) Members() []string {
	ids := []string{s.Current.ID}
	for _, m := range s.Pool {
		ids = append(ids, m.ID)
	}
	return ids
}

// Status asks node i for its view of the cluster.
func (c *Cluster) Status(ctx context.Context, i int) (Status, error) {
	u, err := c.HTTPURL(ctx, i)
	if err != nil {
		return Status{}, err
	}
	code, body, err := get(ctx, u+"/_plugin/cluster/status")
	if err != nil {
		return Status{}, err
	}
	if code != http.StatusOK {
		return Status{}, fmt.Errorf("%s status: HTTP %d: %s", c.NodeID(i), code, body)
	}
	var env struct {
		Result Status `json:"result"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return Status{}, fmt.Errorf("%s status: %w", c.NodeID(i), err)
	}
	return env.Result, nil
}

// Logs returns node i's output so far.
func (c *Cluster) Logs(ctx context.Context, i int) (string, error) {
	r, err := c.nodes[i].Logs(ctx)
	if err != nil {
		return "", err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	return string(b), err
}

// Stop stops node i with SIGTERM: it leaves the cluster gracefully
// (NodeLeft) and exits; the others drop it at once.
func (c *Cluster) Stop(ctx context.Context, i int) error {
	d := stopTimeout
	return c.nodes[i].Stop(ctx, &d)
}

// Kill kills node i with SIGKILL: no leave, the others evict it after
// the eviction timeout.
func (c *Cluster) Kill(ctx context.Context, i int) error {
	id := c.nodes[i].GetContainerID()
	if _, err := c.cli.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		return fmt.Errorf("kill %s: %w", c.NodeID(i), err)
	}
	for {
		st, err := c.nodes[i].State(ctx)
		if err != nil {
			return err
		}
		if !st.Running {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

// Restart starts node i again (stopping it first if it runs) and waits
// until it is ready. It rejoins with a new incarnation.
func (c *Cluster) Restart(ctx context.Context, i int) error {
	st, err := c.nodes[i].State(ctx)
	if err != nil {
		return err
	}
	if st.Running {
		if err := c.Stop(ctx, i); err != nil {
			return err
		}
	}
	if err := c.nodes[i].Start(ctx); err != nil {
		return fmt.Errorf("start %s: %w", c.NodeID(i), err)
	}
	return c.WaitReady(ctx, i)
}

// Disconnect cuts node i off the backend network: it can no longer reach
// Redis, while its clients' port stays reachable. It becomes not ready
// after the eviction timeout and the others evict it.
func (c *Cluster) Disconnect(ctx context.Context, i int) error {
	_, err := c.cli.NetworkDisconnect(ctx, c.backend.ID, client.NetworkDisconnectOptions{
		Container: c.nodes[i].GetContainerID(), Force: true,
	})
	if err != nil {
		return fmt.Errorf("disconnect %s: %w", c.NodeID(i), err)
	}
	return nil
}

// Reconnect attaches node i to the backend network again. It rejoins with
// a new incarnation if it was evicted; use WaitReady to wait for it.
func (c *Cluster) Reconnect(ctx context.Context, i int) error {
	_, err := c.cli.NetworkConnect(ctx, c.backend.ID, client.NetworkConnectOptions{
		Container: c.nodes[i].GetContainerID(),
	})
	if err != nil {
		return fmt.Errorf("reconnect %s: %w", c.NodeID(i), err)
	}
	return nil
}

// Terminate removes every container and network Run created. It is
// idempotent and safe on a partly started cluster.
func (c *Cluster) Terminate(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.terminated {
		return nil
	}
	c.terminated = true
	all := append(append([]*testcontainers.DockerContainer{}, c.nodes...), c.redis...)
	errs := []error{parallel(len(all), func(i int) error {
		if all[i] == nil {
			return nil
		}
		return all[i].Terminate(ctx, testcontainers.StopTimeout(time.Second))
	})}
	for _, n := range []*testcontainers.DockerNetwork{c.backend, c.front} {
		if n != nil {
			errs = append(errs, n.Remove(ctx))
		}
	}
	if c.cli != nil {
		errs = append(errs, c.cli.Close())
	}
	return errors.Join(errs...)
}

// parallel runs f(0..n-1) concurrently and joins their errors.
func parallel(n int, f func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = f(i) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func get(ctx context.Context, u string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}

// randomID returns n random bytes in hex.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
