// Package healthapi registers the routes that orchestrators, load
// balancers and operators use, on the node's echo v4 instance:
//
//	GET  /_plugin/cluster/health   200 result "ok" when ready, 404 "ko" otherwise (the seed plugin's contract)
//	GET  /_plugin/cluster/status   count, current and pool (id, address, ready, incarnation, heartbeat age, lag)
//	POST /_plugin/cluster/reset    wipes the control plane; every node rejoins and re-announces its state
//	POST /_plugin/cluster/shutdown every node leaves gracefully and its process exits (only with Config.Shutdown)
//	GET  /_healthcheck             liveness: serving and Redis reachable (200/503)
//	GET  /_ready                   readiness (200/503)
//	GET  /metrics                  Prometheus
//
// Responses use Kuzzle's JSON envelope, so they look like the rest of the
// API (controller "cluster/cluster" for the plugin routes).
package healthapi
