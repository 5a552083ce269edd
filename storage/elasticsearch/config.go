package elasticsearch

import (
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// Defaults.
const (
	// DefaultScrollTTL is how long a scroll cursor lives when the caller
	// gives no duration.
	DefaultScrollTTL = 30 * time.Second
	// DefaultMaxByQuery is the most documents DeleteByQuery and
	// UpdateByQuery touch in one call (Kuzzle's limits.documentsWriteCount
	// is lower, 200, and enforced by the API layer).
	DefaultMaxByQuery = 10000
	// DefaultShards and DefaultReplicas are the settings of new indices
	// (Kuzzle's defaultSettings).
	DefaultShards   = 1
	DefaultReplicas = 1
)

// ErrBadConfig is returned by New for an invalid Config.
var ErrBadConfig = errors.New("elasticsearch: invalid config")

// Config configures a Store.
type Config struct {
	// Addresses are the node URLs, e.g. "http://localhost:9200". Required.
	Addresses []string
	// Username and Password enable basic authentication when set.
	Username, Password string
	// APIKey is a base64 API key; it wins over basic authentication.
	APIKey string
	// Transport replaces the HTTP transport (tests, custom TLS).
	Transport http.RoundTripper
	// ScrollTTL is the life of a scroll cursor extended without a duration.
	// Default DefaultScrollTTL.
	ScrollTTL time.Duration
	// MaxByQuery bounds the documents of one *ByQuery call. Default
	// DefaultMaxByQuery; more matches fail with
	// services.storage.write_limit_exceeded.
	MaxByQuery int
	// Shards and Replicas are the settings of the indices the store
	// creates. Defaults DefaultShards and DefaultReplicas; a negative
	// Replicas means 0.
	Shards, Replicas int
	// Logger receives debug logs. Default: discard.
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.ScrollTTL == 0 {
		c.ScrollTTL = DefaultScrollTTL
	}
	if c.MaxByQuery == 0 {
		c.MaxByQuery = DefaultMaxByQuery
	}
	if c.Shards == 0 {
		c.Shards = DefaultShards
	}
	switch {
	case c.Replicas == 0:
		c.Replicas = DefaultReplicas
	case c.Replicas < 0:
		c.Replicas = 0
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports whether c is usable (after defaults).
func (c Config) Validate() error {
	if len(c.Addresses) == 0 {
		return errors.Join(ErrBadConfig, errors.New("Addresses is required"))
	}
	if c.ScrollTTL < 0 || c.MaxByQuery < 0 || c.Shards < 0 {
		return errors.Join(ErrBadConfig, errors.New("ScrollTTL, MaxByQuery and Shards must be positive"))
	}
	return nil
}
