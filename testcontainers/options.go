package streamcluster

import (
	"errors"
	"fmt"
	"time"
)

// Defaults of the options.
const (
	DefaultNodes          = 3
	DefaultRedisImage     = "redis:7"
	DefaultStartupTimeout = 2 * time.Minute
	// DefaultHeartbeat is shorter than the server's 1s default so that
	// failure tests run fast; eviction follows after 3 heartbeats.
	DefaultHeartbeat = 500 * time.Millisecond
)

// ErrOption is wrapped by every invalid option.
var ErrOption = errors.New("streamcluster: invalid option")

type options struct {
	nodes          int
	minimumNodes   int           // 0: the server's default (1)
	heartbeat      time.Duration // the server's --heartbeat
	redisImage     string
	configFile     string // host path of a .kuzzlerc-shaped JSON file
	storage        string // "" (server default: redis) or "elasticsearch"
	esURL          string
	secret         string // "" : a random one per Run
	env            map[string]string
	labels         map[string]string
	startupTimeout time.Duration
}

func defaultOptions() options {
	return options{
		nodes:          DefaultNodes,
		heartbeat:      DefaultHeartbeat,
		redisImage:     DefaultRedisImage,
		startupTimeout: DefaultStartupTimeout,
		env:            map[string]string{},
		labels:         map[string]string{},
	}
}

func (o options) validate() error {
	if o.nodes < 1 {
		return fmt.Errorf("%w: %d nodes", ErrOption, o.nodes)
	}
	if o.minimumNodes < 0 {
		return fmt.Errorf("%w: minimumNodes %d", ErrOption, o.minimumNodes)
	}
	if o.heartbeat <= 0 {
		return fmt.Errorf("%w: heartbeat %s", ErrOption, o.heartbeat)
	}
	if o.redisImage == "" {
		return fmt.Errorf("%w: empty Redis image", ErrOption)
	}
	if o.storage != "" && o.storage != "redis" && o.storage != "elasticsearch" {
		return fmt.Errorf("%w: storage %q (want redis or elasticsearch)", ErrOption, o.storage)
	}
	if o.startupTimeout <= 0 {
		return fmt.Errorf("%w: startup timeout %s", ErrOption, o.startupTimeout)
	}
	return nil
}

// Option configures Run.
type Option func(*options)

// WithNodes sets the number of Streamcluster nodes (default 3).
func WithNodes(n int) Option { return func(o *options) { o.nodes = n } }

// WithMinimumNodes sets plugins.cluster.minimumNodes (SC_MINIMUM_NODES):
// a node is ready only while at least n nodes are live. Default: the
// server's (1).
func WithMinimumNodes(n int) Option { return func(o *options) { o.minimumNodes = n } }

// WithHeartbeat sets the heartbeat period (SC_HEARTBEAT); the eviction
// timeout is 3 heartbeats unless a config file says otherwise. Default
// DefaultHeartbeat.
func WithHeartbeat(d time.Duration) Option { return func(o *options) { o.heartbeat = d } }

// WithRedisImage sets the Redis image (default "redis:7"). Its command must
// accept `redis-server <args>`, as the public image and Debian's do.
func WithRedisImage(image string) Option { return func(o *options) { o.redisImage = image } }

// WithConfigFile copies a JSON file in .kuzzlerc shape from the host into
// every node and points SC_CONFIG at it. Options set through flags or the
// environment (heartbeat, minimumNodes) still win over the file.
func WithConfigFile(hostPath string) Option { return func(o *options) { o.configFile = hostPath } }

// WithStorage selects the document store: "redis" (the default) or
// "elasticsearch" with esURL reachable from the nodes (for example an
// Elasticsearch container on Network(); the nodes' only routes are the
// backend and front networks).
func WithStorage(storage, esURL string) Option {
	return func(o *options) { o.storage, o.esURL = storage, esURL }
}

// WithSecret sets the cluster's shared secret (SC_SECRET, at least 16
// bytes) that signs control entries. Default: a random secret per Run.
func WithSecret(secret string) Option { return func(o *options) { o.secret = secret } }

// WithEnv adds environment variables to every node (SC_LOG_LEVEL, …).
func WithEnv(env map[string]string) Option {
	return func(o *options) {
		for k, v := range env {
			o.env[k] = v
		}
	}
}

// WithLabels adds labels to every container and network Run creates.
func WithLabels(labels map[string]string) Option {
	return func(o *options) {
		for k, v := range labels {
			o.labels[k] = v
		}
	}
}

// WithStartupTimeout bounds Run and Restart's wait for readiness
// (default 2 minutes).
func WithStartupTimeout(d time.Duration) Option { return func(o *options) { o.startupTimeout = d } }
