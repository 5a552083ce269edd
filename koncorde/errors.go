package koncorde

import "errors"

// ErrDSL is the sentinel every *DSLError matches with errors.Is.
var ErrDSL = errors.New("koncorde: invalid filter")

// DSLError is a rejected filter. Message is Koncorde's message text, which
// Kuzzle returns verbatim as api.assert.koncorde_dsl_error, for instance
// `"equals.foo": must either be a string, a number, a boolean, or null`.
type DSLError struct {
	// Message is the full message, with the path prefix when there is one.
	Message string
	// Keyword is the faulty keyword (empty for limits).
	Keyword string
	// Path is the filter path where the error was found (may be empty).
	Path string
}

func (e *DSLError) Error() string { return e.Message }

// Is makes errors.Is(err, ErrDSL) true.
func (e *DSLError) Is(target error) bool { return target == ErrDSL }

// parseError builds Koncorde's KoncordeParseError message.
func parseError(message, keyword, path string) *DSLError {
	full := message
	if path != "" {
		full = `"` + path + `": ` + message
	}
	return &DSLError{Message: full, Keyword: keyword, Path: path}
}
