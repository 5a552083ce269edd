package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sync/atomic"

	es8 "github.com/elastic/go-elasticsearch/v8"

	"github.com/streamcluster/streamcluster/storage"
)

// Store is the Elasticsearch document store. It is safe for concurrent use.
type Store struct {
	cfg    Config
	es     *es8.Client
	closed atomic.Bool
}

var _ storage.Store = (*Store)(nil)

// ErrClosed is returned by every method after Close.
var ErrClosed = errors.New("elasticsearch: store closed")

// New returns a Store. It does no I/O: an unreachable cluster shows on the
// first call.
func New(cfg Config) (*Store, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c, err := es8.NewClient(es8.Config{
		Addresses: cfg.Addresses,
		Username:  cfg.Username,
		Password:  cfg.Password,
		APIKey:    cfg.APIKey,
		Transport: cfg.Transport,
	})
	if err != nil {
		return nil, errors.Join(ErrBadConfig, err)
	}
	return &Store{cfg: cfg, es: c}, nil
}

// Close marks the store closed and releases idle connections. Idempotent.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if t, ok := s.cfg.Transport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
	return nil
}

// esError is the "error" object of an Elasticsearch error response (and of
// a failed bulk item).
type esError struct {
	Type      string    `json:"type"`
	Reason    string    `json:"reason"`
	Index     string    `json:"index"`
	RootCause []esError `json:"root_cause"`
	CausedBy  *esError  `json:"caused_by"`
}

// responseError is a non-2xx response.
type responseError struct {
	Status int
	Err    esError
	// Found and ID come from a body that is not an error object (a 404
	// GET answers {"_index", "_id", "found": false}).
	Found *bool
	ID    string
}

func (e *responseError) Error() string {
	return fmt.Sprintf("elasticsearch: status %d: %s: %s", e.Status, e.Err.Type, e.Err.Reason)
}

// request describes one call.
type request struct {
	method string
	path   string // escaped
	query  url.Values
	body   any // encoded as JSON unless []byte (sent as is, NDJSON)
	ndjson bool
}

// do performs r and decodes a 2xx body into out (when out is not nil). A
// non-2xx status returns a *responseError. The response body is always
// read and closed here.
func (s *Store) do(ctx context.Context, r request, out any) error {
	if s.closed.Load() {
		return ErrClosed
	}
	var body io.Reader
	if r.body != nil {
		b, ok := r.body.([]byte)
		if !ok {
			var err error
			if b, err = encodeJSON(r.body); err != nil {
				return fmt.Errorf("elasticsearch: encode request: %w", err)
			}
		}
		body = bytes.NewReader(b)
	}
	u := "http://es" + r.path // host is replaced by the transport
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return fmt.Errorf("elasticsearch: build request: %w", err)
	}
	// The transport fills scheme and host from the node it picks; an empty
	// req.Host makes the Host header follow that node (proxies route on it).
	req.URL.Scheme, req.URL.Host, req.Host = "", "", ""
	if body != nil {
		if r.ndjson {
			req.Header.Set("Content-Type", "application/x-ndjson")
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	res, err := s.es.Perform(req)
	if err != nil {
		return storage.Unexpected(fmt.Errorf("elasticsearch: %s %s: %w", r.method, r.path, err))
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("elasticsearch: read response: %w", err)
	}
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		if out == nil || len(data) == 0 {
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("elasticsearch: decode %s %s response: %w", r.method, r.path, err)
		}
		return nil
	}
	re := &responseError{Status: res.StatusCode}
	var eb struct {
		Error json.RawMessage `json:"error"`
		Found *bool           `json:"found"`
		ID    string          `json:"_id"`
	}
	if len(data) > 0 && json.Unmarshal(data, &eb) == nil {
		re.Found, re.ID = eb.Found, eb.ID
		if len(eb.Error) > 0 && json.Unmarshal(eb.Error, &re.Err) != nil {
			// Old-style string errors.
			_ = json.Unmarshal(eb.Error, &re.Err.Reason)
		}
	}
	return re
}

// status returns the HTTP status of a *responseError, or 0.
func status(err error) int {
	var re *responseError
	if errors.As(err, &re) {
		return re.Status
	}
	return 0
}

// exists performs a HEAD request: true on 200, false on 404.
func (s *Store) exists(ctx context.Context, p string) (bool, error) {
	err := s.do(ctx, request{method: http.MethodHead, path: p}, nil)
	switch {
	case err == nil:
		return true, nil
	case status(err) == http.StatusNotFound:
		return false, nil
	}
	return false, s.mapError(err, "", "", "")
}

var (
	reUnknownQuery  = regexp.MustCompile(`^(?:unknown query \[(.*?)\]|no \[query\] registered for \[(.*?)\])`)
	reMalformed     = regexp.MustCompile(`^\[(.*)\] query malformed, no start_object after query name`)
	reStartObject   = regexp.MustCompile(`^Unknown key for a START_OBJECT in \[(.*)\]`)
	reAlreadyExists = regexp.MustCompile(`^\[(.*)\]: version conflict, document already exists`)
)

// mapError turns an Elasticsearch error into a *storage.Error where Kuzzle
// has an id for it (after Kuzzle's esWrapper). index, coll and id name the
// target when known.
func (s *Store) mapError(err error, index, coll, id string) error {
	var re *responseError
	if !errors.As(err, &re) {
		return err
	}
	return mapESError(re.Status, re.Err, re.Found, index, coll, id)
}

func mapESError(code int, e esError, found *bool, index, coll, id string) error {
	reason := e.Reason
	cause := e
	if len(e.RootCause) > 0 {
		cause = e.RootCause[0]
	}
	for _, r := range []string{reason, cause.Reason} {
		if m := reUnknownQuery.FindStringSubmatch(r); m != nil {
			return storage.UnknownQueryKeyword(m[1] + m[2])
		}
		if m := reMalformed.FindStringSubmatch(r); m != nil {
			return storage.UnknownQueryKeyword(m[1])
		}
		if m := reStartObject.FindStringSubmatch(r); m != nil {
			return &storage.Error{ID: "services.storage.invalid_search_query", Props: []string{m[1]}, Kind: storage.ErrBadQuery}
		}
		if reAlreadyExists.MatchString(r) {
			return storage.AlreadyExists(index, coll, id)
		}
	}
	switch {
	case found != nil && !*found:
		return storage.NotFound(index, coll, id)
	case e.Type == "document_missing_exception":
		return storage.NotFound(index, coll, id)
	case e.Type == "version_conflict_engine_exception":
		return storage.TooManyChanges(id)
	case e.Type == "index_not_found_exception":
		return storage.UnknownCollection(index, coll)
	case e.Type == "search_context_missing_exception", cause.Type == "search_context_missing_exception":
		return storage.UnknownScrollID()
	case code == http.StatusBadRequest:
		msg := cause.Reason
		if e.Type == "parsing_exception" && e.CausedBy != nil && e.CausedBy.Type == "illegal_argument_exception" {
			msg = e.CausedBy.Reason
		}
		if msg == "" {
			msg = e.Reason
		}
		return storage.BadQuery(msg)
	case code == http.StatusNotFound:
		return &storage.Error{ID: "services.storage.unexpected_not_found", Props: []string{reason}, Kind: storage.ErrUnexpected}
	}
	return storage.Unexpected(fmt.Errorf("status %d: %s: %s", code, e.Type, reason))
}

// missingCollection returns unknown_index or unknown_collection.
func (s *Store) missingCollection(ctx context.Context, index, coll string) error {
	ok, err := s.IndexExists(ctx, index)
	if err != nil {
		return err
	}
	if !ok {
		return storage.UnknownIndex(index)
	}
	return storage.UnknownCollection(index, coll)
}

// collectionError maps err and refines unknown_collection into
// unknown_index when the index is missing too.
func (s *Store) collectionError(ctx context.Context, err error, index, coll, id string) error {
	mapped := s.mapError(err, index, coll, id)
	if storage.IsKind(mapped, storage.ErrUnknownCollection) {
		return s.missingCollection(ctx, index, coll)
	}
	return mapped
}

func refreshQuery(q url.Values, refresh string) url.Values {
	if q == nil {
		q = url.Values{}
	}
	if refresh == storage.RefreshWaitFor {
		q.Set("refresh", storage.RefreshWaitFor)
	}
	return q
}

// encodeJSON encodes v without HTML escaping ('&' stays '&' in names).
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
