package streams

import (
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/rueidis"
)

// Defaults of Config.
const (
	// DefaultAddr is the seed address used when Config.Addrs is empty: the
	// first node of `make redis-cluster-up`.
	DefaultAddr = "127.0.0.1:7001"
	// DefaultPrefix is the key prefix: control-plane keys live under the
	// hash tag {sc}.
	DefaultPrefix = "sc"
	// DefaultDialTimeout bounds one TCP (and TLS) connection attempt.
	DefaultDialTimeout = 2 * time.Second
	// DefaultReadTimeout bounds how long a non-blocking command waits for
	// its reply before the connection is considered dead (rueidis
	// ConnWriteTimeout; it also paces rueidis' keep-alive PINGs). Blocking
	// reads (XREADGROUP BLOCK) are not bounded by it.
	DefaultReadTimeout = 5 * time.Second
	// DefaultMaxLen is the approximate length cap (XADD MAXLEN ~) of the
	// streams the Appender writes. Redis trims whole macro nodes, so a
	// stream may hold up to about one node (100 entries) more.
	DefaultMaxLen = 100000
	// NoTrim, as Config.MaxLen, disables trimming on append.
	NoTrim = -1
	// MinSecretLen is the shortest accepted HMAC secret, in bytes.
	MinSecretLen = 16
)

// Config says how to reach Redis and how to write streams. The zero value
// of every field means its default; functions taking a Config never modify
// the caller's copy.
type Config struct {
	// Addrs are seed addresses "host:port". A Redis Cluster is detected
	// automatically from them; a single address of a standalone server is
	// accepted too. Default: [DefaultAddr].
	Addrs []string
	// Username and Password authenticate with AUTH (ACL user when Username
	// is set). Empty means no AUTH.
	Username, Password string
	// TLS, when not nil, makes every connection use TLS with this config.
	TLS *tls.Config
	// DialTimeout bounds one connection attempt (default DefaultDialTimeout).
	DialTimeout time.Duration
	// ReadTimeout bounds the wait for the reply of a non-blocking command
	// (default DefaultReadTimeout). Blocking reads are not affected.
	ReadTimeout time.Duration
	// Database must be 0: Redis Cluster only has database 0. Any other value
	// is refused with ErrDatabaseNotZero.
	Database int
	// Prefix of every key (default DefaultPrefix). It must not contain '{',
	// '}' or whitespace since it becomes a hash tag.
	Prefix string
	// MaxLen is the approximate length cap (MAXLEN ~) applied by the
	// Appender on every append (default DefaultMaxLen; NoTrim disables
	// trimming). Entries beyond it are dropped even if a reader has not
	// read them yet: size it above the largest expected reader lag.
	MaxLen int64
	// Secret, when not empty, signs every entry with HMAC-SHA256 and makes
	// decoding reject unsigned and badly signed entries. At least
	// MinSecretLen bytes. Every node must share it.
	Secret []byte
}

// DefaultConfig returns a Config with every default filled in.
func DefaultConfig() Config {
	return Config{}.withDefaults()
}

// withDefaults returns a copy of c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if len(c.Addrs) == 0 {
		c.Addrs = []string{DefaultAddr}
	} else {
		c.Addrs = append([]string(nil), c.Addrs...)
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.MaxLen == 0 {
		c.MaxLen = DefaultMaxLen
	}
	return c
}

// Validate reports the first invalid field, after defaults are applied.
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.Database != 0 {
		return fmt.Errorf("%w (got database %d)", ErrDatabaseNotZero, c.Database)
	}
	for _, a := range c.Addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return fmt.Errorf("%w: address %q: %w", ErrInvalidConfig, a, err)
		}
	}
	if c.DialTimeout < 0 {
		return fmt.Errorf("%w: dial timeout %v is negative", ErrInvalidConfig, c.DialTimeout)
	}
	if c.ReadTimeout < 0 {
		return fmt.Errorf("%w: read timeout %v is negative", ErrInvalidConfig, c.ReadTimeout)
	}
	if err := ValidatePrefix(c.Prefix); err != nil {
		return err
	}
	if c.MaxLen < 0 && c.MaxLen != NoTrim {
		return fmt.Errorf("%w: max length %d: use a positive value or NoTrim", ErrInvalidConfig, c.MaxLen)
	}
	if len(c.Secret) > 0 && len(c.Secret) < MinSecretLen {
		return fmt.Errorf("%w: secret is %d bytes, want at least %d", ErrInvalidConfig, len(c.Secret), MinSecretLen)
	}
	return nil
}

// ValidatePrefix checks that a key prefix can be used inside a hash tag.
func ValidatePrefix(prefix string) error {
	if prefix == "" {
		return fmt.Errorf("%w: empty key prefix", ErrInvalidConfig)
	}
	if strings.ContainsAny(prefix, "{} \t\r\n") {
		return fmt.Errorf("%w: key prefix %q must not contain '{', '}' or whitespace", ErrInvalidConfig, prefix)
	}
	return nil
}

// NewClient validates cfg and returns a rueidis client for it. rueidis asks
// the seeds for the cluster topology and falls back to a standalone client
// when a single seed is not a cluster node. The caller closes the client.
//
// Client-side caching is disabled (nothing here reads cacheable keys), and
// retries stay rueidis' default: read-only commands are retried on network
// errors until their context ends, writes are not.
func NewClient(cfg Config) (rueidis.Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	client, err := rueidis.NewClient(rueidis.ClientOption{
		InitAddress:      cfg.Addrs,
		Username:         cfg.Username,
		Password:         cfg.Password,
		TLSConfig:        cfg.TLS,
		Dialer:           net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: rueidis.DefaultTCPKeepAlive},
		ConnWriteTimeout: cfg.ReadTimeout,
		SelectDB:         0,
		DisableCache:     true,
	})
	if err != nil {
		return nil, fmt.Errorf("streams: connect to %v: %w", cfg.Addrs, err)
	}
	return client, nil
}
