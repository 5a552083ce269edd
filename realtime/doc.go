// Package realtime holds Kuzzle's realtime core for one node: rooms (one per
// normalized Koncorde filter and collection), channels (a room seen with a
// scope and a users option, named "<roomId>-<digits>" as Kuzzle names them),
// the subscriptions of each connection, and the document and user
// notifications sent to them.
//
// The core is split along the seams the cluster needs:
//
//   - [Hub] is the local state: which connection listens on which channel.
//     It delivers a [Message] to local connections and does no I/O besides
//     the non-blocking [Conn.Send].
//   - [Registry] is the set of rooms known to the cluster, with their
//     filters and subscriber counts. It answers "which rooms match this
//     document" for a write, realtime:count, realtime:list and realtime:join
//     of a room created elsewhere. [LocalRegistry] is the single-node one.
//   - [Router] takes a [Message] for a set of rooms and delivers it to every
//     subscriber. [LocalRouter] hands it to the [Hub]; a cluster router also
//     forwards it to the nodes that have subscribers in those rooms.
//   - [OutState] remembers, per document, the rooms it matched after its last
//     change, so that an update that makes it leave a room notifies that room
//     with scope "out". [RedisOutState] keeps it in the shared Redis, so any
//     node can compute the "out" notifications of any document.
//
// [Notifier] ties them together for writes: match, compute in/out, build
// Kuzzle's notification payloads, route them, update the out-state.
//
// # Usage
//
//	reg := realtime.NewLocalRegistry(koncorde.DefaultConfig())
//	hub := realtime.NewHub(realtime.HubConfig{NodeID: "n1"}, reg, nil)
//	n := realtime.NewNotifier(realtime.NotifierConfig{NodeID: "n1"}, reg, realtime.NewLocalRouter(hub), outState)
//	res, err := hub.Subscribe(ctx, conn, filter, realtime.Options{Scope: "all", Users: "none"}, origin)
//	err = n.NotifyDocuments(ctx, origin, realtime.ActionCreate, changes)
package realtime
