// Package harness is Streamcluster's benchmark harness (issue 7): it starts
// its own local Redis Cluster and streamcluster node processes, drives them
// with real WebSocket clients speaking the Kuzzle protocol, measures the Redis
// baselines in the same run, and writes a JSON result file, a Markdown table
// and SVG plots.
//
// Workloads measured now:
//   - baselines: PING round trip, raw rueidis XADD → blocked XREADGROUP,
//     PUBLISH → SUBSCRIBE with both ends on the channel's master and with the
//     subscriber on another master (one cluster-bus hop);
//   - notification latency through realtime:publish at fixed offered loads,
//     with the number of subscribers per node as a parameter. The workload
//     takes the publishing node and the subscribing nodes as parameters:
//     same-node runs by default, cross-node (Config.CrossNode) once the
//     cluster-wide realtime path is wired into the binary;
//   - failure detection: kill -9 of one node, time until every survivor's
//     status route drops it;
//   - join: time for a new node to become ready and be listed by every peer.
//
// Everything runs on loopback; every loop is bounded in count and time.
// Latencies are measured in one process against one monotonic clock: the
// harness stamps a probe when it sends it and reads the stamp back when the
// probe arrives.
package harness
