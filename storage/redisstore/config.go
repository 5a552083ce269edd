package redisstore

import (
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/rueidis"
)

// DefaultPrefix is the key prefix used when Config.Prefix is empty.
const DefaultPrefix = "sc"

// DefaultScrollTTL is how long a scroll cursor lives when the caller gives
// no duration.
const DefaultScrollTTL = 30 * time.Second

// ErrBadConfig is returned by New for an invalid Config.
var ErrBadConfig = errors.New("redisstore: invalid config")

// Config configures a Store.
type Config struct {
	// Client is the Redis connection (standalone or cluster, database 0).
	// Required. The store does not close it: the caller owns it.
	Client rueidis.Client
	// Prefix starts every key. Default DefaultPrefix. It must not contain
	// '{', '}' or ':'.
	Prefix string
	// ScrollTTL is the life of a scroll cursor opened without a duration.
	// Default DefaultScrollTTL.
	ScrollTTL time.Duration
	// Logger receives debug logs. Default: discard.
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.ScrollTTL == 0 {
		c.ScrollTTL = DefaultScrollTTL
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports whether c is usable (after defaults).
func (c Config) Validate() error {
	if c.Client == nil {
		return errors.Join(ErrBadConfig, errors.New("Client is required"))
	}
	if strings.ContainsAny(c.Prefix, "{}:") {
		return errors.Join(ErrBadConfig, errors.New("Prefix must not contain '{', '}' or ':'"))
	}
	if c.ScrollTTL < 0 {
		return errors.Join(ErrBadConfig, errors.New("ScrollTTL must be positive"))
	}
	return nil
}
