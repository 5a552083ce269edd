package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/streamcluster/streamcluster/storage"
)

// errorDef is one entry of Kuzzle's error catalogue.
type errorDef struct {
	code    int
	status  int
	message string // fmt template using %s placeholders only
}

// Error is a Kuzzle API error: what a client receives in the "error" field
// of a response. ID and Code are empty for the few errors Kuzzle raises
// without a catalogue entry (for example a volatile that is not an object).
type Error struct {
	ID      string
	Code    int
	Status  int
	Message string
	Props   []string
	cause   error
}

// Error implements error.
func (e *Error) Error() string {
	if e.ID == "" {
		return e.Message
	}
	return e.ID + ": " + e.Message
}

// Unwrap returns the error that caused e, if any.
func (e *Error) Unwrap() error { return e.cause }

// MarshalJSON renders e as Kuzzle's KuzzleError.toJSON() without the stack:
// {code, id, message, props, status}, omitting what is undefined in Kuzzle.
func (e *Error) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	if e.ID != "" {
		fmt.Fprintf(&b, `"code":%d,"id":%s,`, e.Code, quote(e.ID))
	}
	b.WriteString(`"message":`)
	b.WriteString(quote(e.Message))
	if e.ID != "" {
		props := e.Props
		if props == nil {
			props = []string{}
		}
		p, err := json.Marshal(props)
		if err != nil {
			return nil, err
		}
		b.WriteString(`,"props":`)
		b.Write(p)
	}
	fmt.Fprintf(&b, `,"status":%d}`, e.Status)
	return []byte(b.String()), nil
}

func quote(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

// kerr builds the catalogue error id with its message placeholders, as
// Kuzzle's kerror.get does. An unknown id is a programming error and yields
// core.fatal.unexpected_error, as in Kuzzle.
func kerr(id string, props ...string) *Error {
	def, ok := catalogue[id]
	if !ok {
		return kerr("core.fatal.unexpected_error", id)
	}
	args := make([]any, len(props))
	for i, p := range props {
		args[i] = p
	}
	msg := def.message
	if len(args) > 0 {
		msg = fmt.Sprintf(def.message, args...)
	}
	return &Error{ID: id, Code: def.code, Status: def.status, Message: msg, Props: props}
}

// kerrCause is kerr with a wrapped cause (kept for logs and errors.Is).
func kerrCause(cause error, id string, props ...string) *Error {
	e := kerr(id, props...)
	e.cause = cause
	return e
}

// badRequest is Kuzzle's BadRequestError raised without a catalogue id.
func badRequest(msg string) *Error {
	return &Error{Status: 400, Message: msg}
}

// asAPIError converts any error returned by a controller into a client
// error; errors that are not *Error become core.fatal.unexpected_error.
func asAPIError(err error) *Error {
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	if se, ok := errors.AsType[*storage.Error](err); ok {
		return kerrCause(err, se.ID, se.Props...)
	}
	return kerrCause(err, "core.fatal.unexpected_error", err.Error())
}
