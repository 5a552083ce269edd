package api

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Protocol names as Kuzzle reports them in notifications.
const (
	ProtocolWebSocket = "websocket"
	ProtocolHTTP      = "http"
)

// Request is one Kuzzle API request, whatever the transport. Fields follow
// Kuzzle's RequestInput: controller, action, the resource arguments (index,
// collection, _id), body, jwt, volatile, and every other field as an
// argument in Args.
type Request struct {
	Controller string
	Action     string
	RequestID  string
	JWT        string
	Body       json.RawMessage // nil when absent or null; otherwise an object or an array
	Volatile   json.RawMessage // nil when absent or null; otherwise an object
	// Args holds every other field of the request, index, collection and
	// _id included, as raw JSON. HTTP query-string values are JSON strings.
	Args      map[string]json.RawMessage
	Timestamp int64 // milliseconds since the epoch (client "timestamp" overrides)

	// Connection context, set by the transport.
	Protocol string
	ConnID   string
	conn     *wsConn // nil over HTTP
	flags    map[string]bool
	// User is the caller's identity, resolved by the pipeline before the
	// controller runs.
	User Identity
}

// newRequestID returns a random UUID v4, as Kuzzle generates for requests
// that carry no requestId.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// parseRequest builds a Request from a JSON object (a WebSocket frame or the
// body of POST /_query). The returned *Error has the requestId it could read.
func parseRequest(raw map[string]json.RawMessage) (*Request, *Error) {
	r := &Request{Args: make(map[string]json.RawMessage, len(raw))}
	var err *Error
	for k, v := range raw {
		switch k {
		case "controller":
			r.Controller, err = stringField(k, v)
		case "action":
			r.Action, err = stringField(k, v)
		case "jwt":
			r.JWT, err = stringField(k, v)
		case "body":
			r.Body, err = objectOrArrayField(k, v)
		case "volatile":
			r.Volatile, err = objectField(k, v)
		default:
			r.Args[k] = v
		}
		if err != nil {
			r.RequestID, _ = stringField("requestId", raw["requestId"])
			return r, err
		}
	}
	if v, ok := raw["requestId"]; ok && !isNull(v) {
		s, err := stringField("requestId", v)
		if err != nil {
			return r, err
		}
		r.RequestID = s
	}
	if r.RequestID == "" {
		r.RequestID = newRequestID()
	}
	r.Timestamp = time.Now().UnixMilli()
	if v, ok := raw["timestamp"]; ok {
		if ts, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64); err == nil && ts != 0 {
			r.Timestamp = ts
		}
	}
	return r, nil
}

func isNull(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) == 0 || string(v) == "null"
}

func stringField(name string, v json.RawMessage) (string, *Error) {
	if isNull(v) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", badRequest(fmt.Sprintf("Attribute %s must be of type \"string\"", name))
	}
	return s, nil
}

func objectField(name string, v json.RawMessage) (json.RawMessage, *Error) {
	if isNull(v) {
		return nil, nil
	}
	if t := bytes.TrimSpace(v); t[0] != '{' {
		return nil, badRequest(fmt.Sprintf("Attribute %s must be of type \"object\"", name))
	}
	return v, nil
}

func objectOrArrayField(name string, v json.RawMessage) (json.RawMessage, *Error) {
	if isNull(v) {
		return nil, nil
	}
	if t := bytes.TrimSpace(v); t[0] != '{' && t[0] != '[' {
		return nil, badRequest(fmt.Sprintf("Attribute %s must be of type \"object\" or \"array\"", name))
	}
	return v, nil
}

// Index returns the "index" argument ("" when absent).
func (r *Request) Index() string { s, _ := r.str("index"); return s }

// Collection returns the "collection" argument ("" when absent).
func (r *Request) Collection() string { s, _ := r.str("collection"); return s }

// ID returns the "_id" argument ("" when absent or null).
func (r *Request) ID() string { s, _ := r.str("_id"); return s }

func (r *Request) str(name string) (string, bool) {
	v, ok := r.Args[name]
	if !ok || isNull(v) {
		return "", false
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		// Kuzzle keeps non-string values; numbers are used as strings.
		return string(bytes.TrimSpace(v)), true
	}
	return s, true
}

// has reports whether argument name is present and not null.
func (r *Request) has(name string) bool {
	v, ok := r.Args[name]
	return ok && !isNull(v)
}

// requireString returns a required string argument (api.assert.missing_argument
// when absent, api.assert.invalid_type when not a string).
func (r *Request) requireString(name string) (string, error) {
	v, ok := r.Args[name]
	if !ok || isNull(v) {
		return "", kerr("api.assert.missing_argument", name)
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", kerr("api.assert.invalid_type", name, "string")
	}
	if s == "" {
		return "", kerr("api.assert.missing_argument", name)
	}
	return s, nil
}

// optString returns an optional string argument, def when absent.
func (r *Request) optString(name, def string) (string, error) {
	v, ok := r.Args[name]
	if !ok || isNull(v) {
		return def, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", kerr("api.assert.invalid_type", name, "string")
	}
	return s, nil
}

// boolArg reads a boolean argument like Kuzzle's getBoolean: over HTTP a
// query-string flag is true when present whatever its value; otherwise the
// value must be a boolean (a missing argument is false).
func (r *Request) boolArg(name string) (bool, error) {
	if r.flags[name] {
		return true, nil
	}
	v, ok := r.Args[name]
	if !ok || isNull(v) {
		return false, nil
	}
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		return false, kerr("api.assert.invalid_type", name, "boolean")
	}
	return b, nil
}

// intArg reads an integer argument (a JSON number, or a numeric string from
// HTTP), def when absent.
func (r *Request) intArg(name string, def int) (int, error) {
	v, ok := r.Args[name]
	if !ok || isNull(v) {
		return def, nil
	}
	var n float64
	if err := json.Unmarshal(v, &n); err != nil {
		var s string
		if json.Unmarshal(v, &s) != nil {
			return 0, kerr("api.assert.invalid_type", name, "integer")
		}
		i, err := strconv.Atoi(s)
		if err != nil {
			return 0, kerr("api.assert.invalid_type", name, "integer")
		}
		return i, nil
	}
	if n != float64(int(n)) {
		return 0, kerr("api.assert.invalid_type", name, "integer")
	}
	return int(n), nil
}

// bodyObject decodes the body as a JSON object (api.assert.body_required when
// absent, api.assert.invalid_type when not an object).
func (r *Request) bodyObject() (map[string]any, error) {
	if r.Body == nil {
		return nil, kerr("api.assert.body_required")
	}
	m, err := decodeObject(r.Body)
	if err != nil {
		return nil, kerr("api.assert.invalid_type", "body", "object")
	}
	return m, nil
}

// optBodyObject decodes the body as an object, nil when absent.
func (r *Request) optBodyObject() (map[string]any, error) {
	if r.Body == nil {
		return nil, nil
	}
	return r.bodyObject()
}

// bodyField returns body[name] decoded; missing when absent.
func bodyField(body map[string]any, name string) (any, bool) {
	if body == nil {
		return nil, false
	}
	v, ok := body[name]
	return v, ok && v != nil
}

// decodeObject decodes a JSON object; numbers become float64, as in
// JavaScript.
func decodeObject(b []byte) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("not an object")
	}
	return m, nil
}

// args reads a request's arguments one after the other and keeps the first
// error: after a read fails, the next ones do nothing and return zero
// values. An action lists its arguments in the order Kuzzle checks them
// (so the first bad one is reported) and tests err once:
//
//	a := r.args()
//	index, coll := a.indexAndCollection()
//	id := a.id()
//	if a.err != nil {
//		return nil, a.err
//	}
type args struct {
	r   *Request
	err error
}

func (r *Request) args() *args { return &args{r: r} }

// read returns f's value unless an earlier read failed, and keeps f's error.
func read[T any](a *args, f func() (T, error)) T {
	var v T
	if a.err == nil {
		v, a.err = f()
	}
	return v
}

// fail records err unless an earlier read failed.
func (a *args) fail(err error) {
	if a.err == nil {
		a.err = err
	}
}

// str reads a required string argument.
func (a *args) str(name string) string {
	return read(a, func() (string, error) { return a.r.requireString(name) })
}

func (a *args) indexAndCollection() (index, coll string) {
	return a.str("index"), a.str("collection")
}

// id reads the required _id.
func (a *args) id() string { return a.str("_id") }

// body reads the body, which must be an object.
func (a *args) body() map[string]any { return read(a, a.r.bodyObject) }

// boolean reads an optional boolean argument (false when absent).
func (a *args) boolean(name string) bool {
	return read(a, func() (bool, error) { return a.r.boolArg(name) })
}

// integer reads an optional integer argument (def when absent).
func (a *args) integer(name string, def int) int {
	return read(a, func() (int, error) { return a.r.intArg(name, def) })
}
