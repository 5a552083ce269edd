package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
)

const (
	corsAllowHeaders = "Content-Type, Access-Control-Allow-Headers, Authorization, X-Requested-With, Content-Length, Content-Encoding, X-Kuzzle-Volatile"
	corsAllowMethods = "GET,POST,PUT,PATCH,DELETE,OPTIONS,HEAD"
)

func (s *Server) writeHeaders(w http.ResponseWriter, r *http.Request, status int, requestID string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	h.Set("Access-Control-Allow-Methods", corsAllowMethods)
	h.Set("Access-Control-Expose-Headers", "Content-Length")
	h.Set("Accept-Encoding", "identity")
	if origin := r.Header.Get("Origin"); origin != "" {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Vary", "Origin")
	} else {
		h.Set("Access-Control-Allow-Origin", "*")
	}
	if requestID != "" {
		h.Set("X-Kuzzle-Request-Id", requestID)
	}
	h.Set("X-Kuzzle-Node", s.cfg.NodeID)
	w.WriteHeader(status)
}

// sendBareError answers a transport error raised before routing with the
// bare error object, as Kuzzle's httpSendError does.
func (s *Server) sendBareError(w http.ResponseWriter, r *http.Request, e *Error) {
	b, _ := e.MarshalJSON() // never fails
	s.writeHeaders(w, r, e.Status, "")
	_, _ = w.Write(b)
}

func (s *Server) sendEnvelope(w http.ResponseWriter, r *http.Request, req *Request, status int, result json.RawMessage, e *Error) {
	body := s.respond(req, status, result, e, false)
	if _, pretty := r.URL.Query()["pretty"]; pretty {
		var b bytes.Buffer
		if json.Indent(&b, body, "", "  ") == nil {
			body = b.Bytes()
		}
	}
	s.writeHeaders(w, r, status, req.RequestID)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := r.Header.Get("X-Kuzzle-Request-Id")
	if requestID == "" {
		requestID = newRequestID()
	}
	base := &Request{RequestID: requestID, Args: map[string]json.RawMessage{}, Protocol: ProtocolHTTP}

	switch r.Method {
	case http.MethodOptions:
		s.sendEnvelope(w, r, base, http.StatusOK, json.RawMessage("{}"), nil)
		return
	case http.MethodHead:
		if len(splitPath(r.URL.Path)) == 0 {
			s.sendEnvelope(w, r, base, http.StatusOK, json.RawMessage("{}"), nil)
			return
		}
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		e := kerr("network.http.unsupported_verb", r.Method)
		s.sendEnvelope(w, r, base, e.Status, nil, e)
		return
	}

	if r.ContentLength > s.cfg.MaxRequestSize {
		s.sendBareError(w, r, kerr("network.http.request_too_large"))
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			mt = strings.TrimSpace(strings.SplitN(ct, ";", 2)[0])
		}
		if mt != "application/json" && mt != "application/x-www-form-urlencoded" && mt != "multipart/form-data" {
			s.sendBareError(w, r, kerr("network.http.unsupported_content", mt))
			return
		}
		if cs := strings.ToLower(params["charset"]); cs != "" && cs != "utf-8" {
			s.sendBareError(w, r, kerr("network.http.unsupported_charset", cs))
			return
		}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxRequestSize))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			s.sendBareError(w, r, kerr("network.http.request_too_large"))
			return
		}
		s.sendBareError(w, r, kerrCause(err, "network.http.unexpected_error", err.Error()))
		return
	}
	var body json.RawMessage
	if len(bytes.TrimSpace(raw)) > 0 {
		if !json.Valid(raw) {
			sample := string(raw)
			if len(sample) > 50 {
				sample = sample[:50]
			}
			s.sendBareError(w, r, kerr("network.http.body_parse_failed", sample))
			return
		}
		body = raw
	}

	rt, params, ok := s.routes.lookup(r.Method, r.URL.EscapedPath())
	if !ok {
		e := kerr("network.http.url_not_found", r.URL.RequestURI())
		s.sendEnvelope(w, r, base, e.Status, nil, e)
		return
	}

	req, apiErr := s.httpRequest(r, rt, params, body, base)
	if apiErr != nil {
		s.sendEnvelope(w, r, req, apiErr.Status, nil, apiErr)
		return
	}
	status, result, e := s.execute(r.Context(), req)
	s.sendEnvelope(w, r, req, status, result, e)
}

// httpRequest builds the API request of an HTTP call: the JSON query
// endpoint's body, or the route's controller and action with placeholders,
// query string, body, bearer token and volatile header.
func (s *Server) httpRequest(r *http.Request, rt *route, params map[string]string, body json.RawMessage, base *Request) (*Request, *Error) {
	var req *Request
	if rt.controller == "" { // POST /_query
		var fields map[string]json.RawMessage
		if body == nil || json.Unmarshal(body, &fields) != nil || fields == nil {
			return base, kerr("api.assert.body_required")
		}
		if _, ok := fields["requestId"]; !ok {
			fields["requestId"], _ = json.Marshal(base.RequestID)
		}
		parsed, e := parseRequest(fields)
		if e != nil {
			return parsed, e
		}
		req = parsed
	} else {
		req = &Request{
			Controller: rt.controller,
			Action:     rt.action,
			RequestID:  base.RequestID,
			Args:       make(map[string]json.RawMessage),
			flags:      make(map[string]bool),
		}
		for k, vs := range r.URL.Query() {
			if k == "pretty" {
				continue
			}
			v, _ := json.Marshal(vs[len(vs)-1])
			req.Args[k] = v
			req.flags[k] = true
		}
		for k, v := range params {
			req.Args[k], _ = json.Marshal(v)
			delete(req.flags, k)
		}
		if body != nil {
			b, e := objectOrArrayField("body", body)
			if e != nil {
				return req, e
			}
			req.Body = b
		}
		req.Timestamp = base.Timestamp
	}
	req.Protocol = ProtocolHTTP
	if req.Timestamp == 0 {
		req.Timestamp = nowMillis()
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		if tok, ok := strings.CutPrefix(auth, "Bearer "); ok {
			req.JWT = strings.TrimSpace(tok)
		}
	}
	if hv := r.Header.Get("X-Kuzzle-Volatile"); hv != "" {
		var v map[string]any
		if err := json.Unmarshal([]byte(hv), &v); err != nil || v == nil {
			msg := "not a JSON object"
			if err != nil {
				msg = err.Error()
			}
			return req, kerr("network.http.volatile_parse_failed", msg)
		}
		req.Volatile = json.RawMessage(hv)
	}
	return req, nil
}
