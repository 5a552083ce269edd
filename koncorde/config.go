package koncorde

import (
	"errors"
	"fmt"
)

// DefaultMaxConditions is Kuzzle's default limits.subscriptionConditionsCount.
const DefaultMaxConditions = 100

// DefaultMaxConjunctions bounds the size of a normalized filter (the number
// of AND-groups of its disjunctive normal form).
const DefaultMaxConjunctions = 1024

// kuzzleSeed is Kuzzle's fixed internal.hash.seed (kuzzle:lib/config). Using
// it makes room ids equal to Kuzzle's for filters that normalize identically.
var kuzzleSeed = []byte("^m&mOISKBvb1xpl1mRsrylaQXpjb&IJX")

// KuzzleSeed returns a copy of Kuzzle's fixed 32-byte hash seed.
func KuzzleSeed() []byte { return append([]byte(nil), kuzzleSeed...) }

// Config configures normalization and the engine. The zero value means
// "defaults": use DefaultConfig() to see them.
type Config struct {
	// MaxConditions is the maximum number of conditions a filter may hold
	// after decomposition (Kuzzle's limits.subscriptionConditionsCount).
	// Zero means DefaultMaxConditions (100). Must not be negative.
	MaxConditions int

	// MaxConjunctions is the maximum number of AND-groups a normalized filter
	// may expand to (the DNF of a product of ORs grows exponentially).
	// Zero means DefaultMaxConjunctions (1024). Must not be negative.
	// Koncorde has no such limit: it hangs on such filters instead.
	MaxConjunctions int

	// Seed is the HMAC-SHA256 key of room ids: 32 bytes. Nil means Kuzzle's
	// fixed seed, so that room ids are Kuzzle's. Every node of a cluster must
	// use the same seed.
	Seed []byte
}

// DefaultConfig returns the configuration Kuzzle uses.
func DefaultConfig() Config {
	return Config{
		MaxConditions:   DefaultMaxConditions,
		MaxConjunctions: DefaultMaxConjunctions,
		Seed:            KuzzleSeed(),
	}
}

// ErrInvalidConfig is returned (wrapped) by Config.Validate.
var ErrInvalidConfig = errors.New("koncorde: invalid config")

// Validate reports a configuration that cannot be used.
func (c Config) Validate() error {
	if c.MaxConditions < 0 {
		return fmt.Errorf("%w: MaxConditions must be >= 0, got %d", ErrInvalidConfig, c.MaxConditions)
	}
	if c.MaxConjunctions < 0 {
		return fmt.Errorf("%w: MaxConjunctions must be >= 0, got %d", ErrInvalidConfig, c.MaxConjunctions)
	}
	if c.Seed != nil && len(c.Seed) != 32 {
		return fmt.Errorf("%w: Seed must be 32 bytes long, got %d", ErrInvalidConfig, len(c.Seed))
	}
	return nil
}

// withDefaults returns a copy of c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.MaxConditions == 0 {
		c.MaxConditions = DefaultMaxConditions
	}
	if c.MaxConjunctions == 0 {
		c.MaxConjunctions = DefaultMaxConjunctions
	}
	if c.Seed == nil {
		c.Seed = kuzzleSeed
	}
	return c
}
