package node

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamcluster/streamcluster/streams"
)

// Defaults of Config, with the Kuzzle cluster plugin's names in comments.
const (
	// DefaultPrefix is the key prefix: control-plane keys live under the
	// hash tag {sc}.
	DefaultPrefix = streams.DefaultPrefix
	// DefaultHeartbeat is timers.heartbeat: the heartbeat period.
	DefaultHeartbeat = time.Second
	// DefaultEvictionFactor gives timers.evictionTimeout when it is unset:
	// DefaultEvictionFactor × Heartbeat.
	DefaultEvictionFactor = 3
	// DefaultMinimumNodes is minimumNodes: live members needed to be ready.
	DefaultMinimumNodes = 1
	// DefaultRetryJoin is retryJoin: failed attempts of the first join
	// before Run gives up.
	DefaultRetryJoin = 30
	// DefaultJoinAttemptInterval is timers.joinAttemptInterval.
	DefaultJoinAttemptInterval = time.Second
	// DefaultJoinTimeout is timers.discoverTimeout: the bound of one join
	// attempt.
	DefaultJoinTimeout = 3 * time.Second
	// DefaultStreamMaxLen is the approximate cap (MAXLEN ~) of the control
	// stream. A reader that falls further behind sees a sequence gap and
	// resyncs from the snapshot.
	DefaultStreamMaxLen = 10000
	// DefaultReadCount is the COUNT of one XREADGROUP on the control stream.
	DefaultReadCount = 256
)

// Config configures a Node. The zero value of every field except APIAddress
// and Version means "use the default"; New never modifies the caller's copy.
type Config struct {
	// ID is the node id, unique in the cluster; it names the node's
	// consumer group on the control stream and its inbox. Default: a
	// random "knode-<hex>".
	ID string
	// Prefix of every key (default DefaultPrefix). Control-plane keys use
	// the hash tag {Prefix}.
	Prefix string
	// APIAddress is the client-facing address advertised in the id card
	// (e.g. "127.0.0.1:7512"). Informational.
	APIAddress string
	// Version is the software version advertised in the id card.
	Version string
	// Heartbeat is the heartbeat period (timers.heartbeat, default 1s).
	Heartbeat time.Duration
	// EvictionTimeout is how long a peer may stay silent before it is
	// evicted, and how long this node stays ready without a successful
	// heartbeat (timers.evictionTimeout, default 3 × Heartbeat). Must be
	// larger than Heartbeat.
	EvictionTimeout time.Duration
	// MinimumNodes is the number of live members (this one included)
	// needed to be ready (minimumNodes, default 1).
	MinimumNodes int
	// RetryJoin is the number of failed attempts of the first join before
	// Run returns ErrJoinFailed (retryJoin, default 30). A negative value
	// retries forever. Rejoins after an eviction always retry forever.
	RetryJoin int
	// JoinAttemptInterval is the delay between join attempts
	// (timers.joinAttemptInterval, default 1s).
	JoinAttemptInterval time.Duration
	// JoinTimeout bounds one join attempt (timers.discoverTimeout,
	// default 3s).
	JoinTimeout time.Duration
	// ResetKeys are extra keys (in the {Prefix} hash tag) that Reset
	// deletes with the membership keys: the replicated state of other
	// packages.
	ResetKeys []string
	// WaitReplicas, when positive, makes membership changes and mutations
	// wait (WAIT) for that many replicas of the control plane's master,
	// narrowing the window in which a failover loses an acknowledged write.
	// Heartbeats never wait. Default 0: no WAIT.
	WaitReplicas int
	// WaitTimeout bounds each WAIT (default: Heartbeat). A write that times
	// out is kept and logged, not failed.
	WaitTimeout time.Duration
	// Secret is the cluster's shared HMAC-SHA256 secret (at least
	// streams.MinSecretLen bytes; every node must have the same one). When
	// set, every control entry this node writes is signed and every entry
	// it reads must carry a valid signature: unsigned or badly signed
	// entries are skipped, logged and counted. Empty (the default): entries
	// are neither signed nor checked, so anything that can write to Redis
	// can write membership events. The slice is copied by New.
	Secret []byte
	// Registerer receives the node's Prometheus collector (default: none).
	Registerer prometheus.Registerer
	// StreamMaxLen caps the control stream (MAXLEN ~, default 10000).
	StreamMaxLen int64
	// ReadCount is the COUNT of control-stream reads (default 256).
	ReadCount int64
	// Logger receives the node's logs (default: discarded).
	Logger *slog.Logger
}

// ErrInvalidConfig is wrapped by every error of Config.Validate.
var ErrInvalidConfig = errors.New("node: invalid config")

func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.EvictionTimeout == 0 {
		c.EvictionTimeout = DefaultEvictionFactor * c.Heartbeat
	}
	if c.MinimumNodes == 0 {
		c.MinimumNodes = DefaultMinimumNodes
	}
	if c.RetryJoin == 0 {
		c.RetryJoin = DefaultRetryJoin
	}
	if c.JoinAttemptInterval == 0 {
		c.JoinAttemptInterval = DefaultJoinAttemptInterval
	}
	if c.WaitTimeout == 0 {
		c.WaitTimeout = c.Heartbeat
	}
	if c.JoinTimeout == 0 {
		c.JoinTimeout = DefaultJoinTimeout
	}
	if c.StreamMaxLen == 0 {
		c.StreamMaxLen = DefaultStreamMaxLen
	}
	if c.ReadCount == 0 {
		c.ReadCount = DefaultReadCount
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first impossible value of c after defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.ID != "" {
		if err := streams.ValidateNodeID(c.ID); err != nil {
			return fmt.Errorf("%w: node id %q must not contain braces, colons or spaces (%w)", ErrInvalidConfig, c.ID, err)
		}
	}
	switch {
	case strings.ContainsAny(c.Prefix, "{}"):
		return fmt.Errorf("%w: prefix %q must not contain braces", ErrInvalidConfig, c.Prefix)
	case c.Heartbeat < 10*time.Millisecond:
		return fmt.Errorf("%w: heartbeat %s is below 10ms", ErrInvalidConfig, c.Heartbeat)
	case c.EvictionTimeout <= c.Heartbeat:
		return fmt.Errorf("%w: eviction timeout %s must be larger than the heartbeat %s", ErrInvalidConfig, c.EvictionTimeout, c.Heartbeat)
	case c.MinimumNodes < 1:
		return fmt.Errorf("%w: minimumNodes %d must be at least 1", ErrInvalidConfig, c.MinimumNodes)
	case c.JoinAttemptInterval < 0:
		return fmt.Errorf("%w: joinAttemptInterval %s is negative", ErrInvalidConfig, c.JoinAttemptInterval)
	case c.WaitReplicas < 0 || c.WaitTimeout < 0:
		return fmt.Errorf("%w: negative WAIT replicas %d or timeout %s", ErrInvalidConfig, c.WaitReplicas, c.WaitTimeout)
	case c.JoinTimeout < 0:
		return fmt.Errorf("%w: join timeout %s is negative", ErrInvalidConfig, c.JoinTimeout)
	case c.StreamMaxLen < 100:
		return fmt.Errorf("%w: stream max length %d is below 100", ErrInvalidConfig, c.StreamMaxLen)
	case len(c.Secret) > 0 && len(c.Secret) < streams.MinSecretLen:
		return fmt.Errorf("%w: secret is %d bytes, want at least %d", ErrInvalidConfig, len(c.Secret), streams.MinSecretLen)
	case c.ReadCount < 1:
		return fmt.Errorf("%w: read count %d must be at least 1", ErrInvalidConfig, c.ReadCount)
	}
	return nil
}
