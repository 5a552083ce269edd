package api

import (
	"net/url"
	"strings"
)

// route is one entry of Kuzzle's HTTP route table.
type route struct {
	verb       string
	path       string // with :placeholders
	controller string
	action     string
}

// httpRoutes is the subset of Kuzzle's HTTP route table
// (lib/api/httpRoutes.js) for the actions this server implements.
var httpRoutes = []route{
	{"POST", "/_query", "", ""}, // JSON query endpoint: the body is the request

	{"GET", "/", "server", "info"},
	{"GET", "/_serverInfo", "server", "info"},
	{"GET", "/_now", "server", "now"},
	{"GET", "/_healthCheck", "server", "healthCheck"},
	{"GET", "/_publicApi", "server", "publicApi"},

	{"POST", "/_checkToken", "auth", "checkToken"},

	{"GET", "/_listSubscriptions", "realtime", "list"},
	{"POST", "/:index/:collection/_publish", "realtime", "publish"},

	{"GET", "/:index/:collection/:_id", "document", "get"},
	{"GET", "/:index/:collection/:_id/_exists", "document", "exists"},
	{"GET", "/:index/:collection/_search", "document", "search"},
	{"POST", "/:index/:collection/_search", "document", "search"},
	{"GET", "/:index/:collection/_mGet", "document", "mGet"},
	{"POST", "/:index/:collection/_mGet", "document", "mGet"},
	{"GET", "/_scroll/:scrollId", "document", "scroll"},
	{"POST", "/:index/:collection/_count", "document", "count"},
	{"POST", "/:index/:collection/_create", "document", "create"},
	{"POST", "/:index/:collection/:_id/_create", "document", "create"},
	{"PUT", "/:index/:collection/:_id", "document", "createOrReplace"},
	{"PUT", "/:index/:collection/:_id/_replace", "document", "replace"},
	{"PATCH", "/:index/:collection/:_id/_update", "document", "update"},
	{"PUT", "/:index/:collection/:_id/_update", "document", "update"},
	{"POST", "/:index/:collection/:_id/_upsert", "document", "upsert"},
	{"PUT", "/:index/:collection/:_id/_upsert", "document", "upsert"},
	{"DELETE", "/:index/:collection/:_id", "document", "delete"},
	{"DELETE", "/:index/:collection/_query", "document", "deleteByQuery"},
	{"PUT", "/:index/:collection/_query", "document", "updateByQuery"},
	{"POST", "/:index/:collection/_mCreate", "document", "mCreate"},
	{"PUT", "/:index/:collection/_mCreateOrReplace", "document", "mCreateOrReplace"},
	{"PUT", "/:index/:collection/_mReplace", "document", "mReplace"},
	{"PATCH", "/:index/:collection/_mUpdate", "document", "mUpdate"},
	{"PUT", "/:index/:collection/_mUpdate", "document", "mUpdate"},
	{"POST", "/:index/:collection/_mUpsert", "document", "mUpsert"},
	{"DELETE", "/:index/:collection/_mDelete", "document", "mDelete"},
	{"POST", "/:index/:collection/_validate", "document", "validate"},

	{"PUT", "/:index/:collection", "collection", "create"},
	{"POST", "/:index/:collection", "collection", "update"},
	{"DELETE", "/:index/:collection", "collection", "delete"},
	{"GET", "/:index/:collection/_exists", "collection", "exists"},
	{"GET", "/:index/_list", "collection", "list"},
	{"GET", "/:index/:collection/_mapping", "collection", "getMapping"},
	{"POST", "/:index/:collection/_refresh", "collection", "refresh"},
	{"DELETE", "/:index/:collection/_truncate", "collection", "truncate"},

	{"POST", "/:index/_create", "index", "create"},
	{"DELETE", "/:index", "index", "delete"},
	{"DELETE", "/_mDelete", "index", "mDelete"},
	{"GET", "/:index/_exists", "index", "exists"},
	{"GET", "/_list", "index", "list"},
}

// routeNode is one path segment of the route tree. As in Kuzzle's router, a
// static segment wins over a placeholder and there is no backtracking.
type routeNode struct {
	static       map[string]*routeNode
	param        *routeNode
	route        *route
	placeholders []string
}

type routeTable struct {
	verbs map[string]*routeNode
}

func newRouteTable(routes []route) *routeTable {
	t := &routeTable{verbs: make(map[string]*routeNode)}
	for i := range routes {
		rt := &routes[i]
		n, ok := t.verbs[rt.verb]
		if !ok {
			n = &routeNode{}
			t.verbs[rt.verb] = n
		}
		var names []string
		for _, part := range splitPath(rt.path) {
			if strings.HasPrefix(part, ":") {
				names = append(names, part[1:])
				if n.param == nil {
					n.param = &routeNode{}
				}
				n = n.param
				continue
			}
			if n.static == nil {
				n.static = make(map[string]*routeNode)
			}
			next, ok := n.static[part]
			if !ok {
				next = &routeNode{}
				n.static[part] = next
			}
			n = next
		}
		n.route = rt
		n.placeholders = names
	}
	return t
}

// lookup finds the route of verb and escaped path, with its placeholder
// values (unescaped).
func (t *routeTable) lookup(verb, escapedPath string) (*route, map[string]string, bool) {
	n, ok := t.verbs[verb]
	if !ok {
		return nil, nil, false
	}
	var values []string
	for _, part := range splitPath(escapedPath) {
		if next, ok := n.static[part]; ok {
			n = next
			continue
		}
		if n.param == nil {
			return nil, nil, false
		}
		v, err := url.PathUnescape(part)
		if err != nil {
			return nil, nil, false
		}
		values = append(values, v)
		n = n.param
	}
	if n.route == nil {
		return nil, nil, false
	}
	params := make(map[string]string, len(values))
	for i, name := range n.placeholders {
		params[name] = values[i]
	}
	return n.route, params, true
}

func splitPath(p string) []string {
	parts := strings.Split(p, "/")
	out := parts[:0]
	for _, s := range parts {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
