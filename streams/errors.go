package streams

import (
	"errors"
	"fmt"
)

var (
	// ErrDatabaseNotZero is returned by Config.Validate when Database is not
	// 0: a Redis Cluster only has database 0, and Streamcluster refuses to
	// run on another one even against a standalone server.
	ErrDatabaseNotZero = errors.New("streams: only Redis database 0 is supported (Redis Cluster has no other database); set database to 0")
	// ErrInvalidConfig is returned by Config.Validate for any other invalid
	// field.
	ErrInvalidConfig = errors.New("streams: invalid config")
	// ErrInvalidEnvelope is returned by Codec.Encode for an envelope that
	// cannot be encoded (empty type or sender, oversized payload, ...).
	ErrInvalidEnvelope = errors.New("streams: invalid envelope")

	// ErrMalformed means a stream entry is not a well-formed envelope.
	ErrMalformed = errors.New("streams: malformed entry")
	// ErrUnsigned means a secret is configured and the entry has no
	// signature.
	ErrUnsigned = errors.New("streams: unsigned entry")
	// ErrBadSignature means a secret is configured and the entry's
	// signature does not match.
	ErrBadSignature = errors.New("streams: bad signature")
	// ErrUnknownVersion means the envelope has a version this code does not
	// know.
	ErrUnknownVersion = errors.New("streams: unknown envelope version")
)

// DecodeError is the error of Codec.Decode: which field was rejected and
// why. It wraps one of ErrMalformed, ErrUnsigned, ErrBadSignature or
// ErrUnknownVersion, so errors.Is works on it.
type DecodeError struct {
	// Field is the stream field ("e", "s", "q") or the envelope field
	// ("version", "flags", "type", "sender", "incarnation", "seq", "time",
	// "payload") that was rejected.
	Field string
	// Reason says what is wrong with it.
	Reason string
	// Err is the sentinel.
	Err error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("%v: %s: %s", e.Err, e.Field, e.Reason)
}

func (e *DecodeError) Unwrap() error { return e.Err }

func malformed(field, reason string) *DecodeError {
	return &DecodeError{Field: field, Reason: reason, Err: ErrMalformed}
}
