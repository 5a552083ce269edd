package api

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzRequestEnvelope feeds arbitrary frames to the request parser and
// checks that whatever it accepts or rejects renders a valid JSON envelope.
func FuzzRequestEnvelope(f *testing.F) {
	f.Add([]byte(`{"controller":"server","action":"now"}`))
	f.Add([]byte(`{"controller":"document","action":"create","index":"i","collection":"c","_id":null,"body":{"a":1},"volatile":{"v":[1,2]}}`))
	f.Add([]byte(`{"volatile":"x","requestId":"r"}`))
	f.Add([]byte(`{"requestId":42}`))
	f.Add([]byte(`{"index":{"a":"b"},"collection":[1],"body":"str"}`))
	f.Fuzz(func(t *testing.T, frame []byte) {
		var fields map[string]json.RawMessage
		if json.Unmarshal(frame, &fields) != nil || fields == nil {
			return
		}
		req, apiErr := parseRequest(fields)
		if req == nil {
			t.Fatal("nil request")
		}
		var b bytes.Buffer
		status := 200
		if apiErr != nil {
			status = apiErr.Status
		}
		envelope(&b, req, "n", status, json.RawMessage(`{"ok":true}`), apiErr, true)
		if !json.Valid(b.Bytes()) {
			t.Fatalf("invalid envelope %s for %s", b.Bytes(), frame)
		}
	})
}

// FuzzRouteLookup checks that no path makes the router panic and that a
// match binds every placeholder.
func FuzzRouteLookup(f *testing.F) {
	tbl := newRouteTable(httpRoutes)
	for _, r := range httpRoutes {
		f.Add(r.verb, r.path)
	}
	f.Add("GET", "/a%2Fb/c/d")
	f.Add("DELETE", "//x///y")
	f.Fuzz(func(t *testing.T, verb, path string) {
		rt, params, ok := tbl.lookup(verb, path)
		if !ok {
			return
		}
		for _, part := range splitPath(rt.path) {
			if part[0] == ':' {
				if _, found := params[part[1:]]; !found {
					t.Fatalf("%s %s: placeholder %s unbound", verb, path, part)
				}
			}
		}
	})
}

func TestRouteTableStaticWins(t *testing.T) {
	tbl := newRouteTable(httpRoutes)
	cases := []struct{ verb, path, controller, action string }{
		{"GET", "/i/c/_exists", "collection", "exists"},
		{"GET", "/i/c/doc", "document", "get"},
		{"GET", "/i/c/doc/_exists", "document", "exists"},
		{"GET", "/i/_exists", "index", "exists"},
		{"POST", "/i/c/_create", "document", "create"},
		{"POST", "/i/c/x/_create", "document", "create"},
		{"DELETE", "/_mDelete", "index", "mDelete"},
		{"DELETE", "/i", "index", "delete"},
		{"GET", "/", "server", "info"},
		{"POST", "/_query", "", ""},
	}
	for _, tc := range cases {
		rt, _, ok := tbl.lookup(tc.verb, tc.path)
		if !ok || rt.controller != tc.controller || rt.action != tc.action {
			t.Fatalf("%s %s: got %+v %v", tc.verb, tc.path, rt, ok)
		}
	}
	rt, params, ok := tbl.lookup("GET", "/my%20index/c/a%2Fb")
	if !ok || rt.action != "get" || params["index"] != "my index" || params["_id"] != "a/b" {
		t.Fatalf("unescape: %+v %v %v", rt, params, ok)
	}
}
