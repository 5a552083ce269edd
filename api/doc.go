// Package api serves the Kuzzle 2 API on one port: HTTP requests (Kuzzle's
// route table, POST /_query, ?pretty, Authorization: Bearer,
// X-Kuzzle-Volatile) and WebSocket connections (an upgrade on any path, one
// JSON request per text frame, {"p":1} → {"p":2}, notifications on the same
// socket).
//
// Every request goes through one pipeline (Server.execute): readiness gate,
// controller and action lookup, identity resolution (the place where tokens
// will be verified), rights check (the place where roles will be enforced),
// then the controller. Responses use Kuzzle's envelope and error catalogue
// (ids, codes, HTTP statuses and messages) so that kuzzle-sdk works
// unchanged.
//
// Controllers: server (info, now, healthCheck, publicApi), auth (checkToken
// for the anonymous user), realtime (subscribe, unsubscribe, join, count,
// list, publish, validate), document, index and collection (backed by a
// storage.Store). Writes notify subscribers through realtime.Service before
// their response is sent; a notification failure does not fail the write,
// it is logged and counted (Server.NotifyFailures).
//
// # Usage
//
//	srv, err := api.NewServer(api.Config{NodeID: "n1", Store: store, Realtime: rt, Ready: node.Ready})
//	http.Handle("/", srv)  // or mount srv on echo with e.Any("/*", echo.WrapHandler(srv))
//	defer srv.Close(ctx)
package api
