// Package cluster is the realtime layer across nodes: the replicated room
// registry ([Registry], a realtime.Registry) and the notification fan-out
// ([Router], a realtime.Router), both built on package node's control
// stream and on per-node inboxes.
//
// # Replicated room registry
//
// Every node holds every cluster room's filter in its own Koncorde engine,
// so the node that handles a write matches it once against all rooms, and
// the subscriber count of every room on every node, for realtime:count,
// realtime:list, realtime:join of a room created elsewhere, and routing.
//
// A node's own counts are the truth for that node: AddSubscriber and
// RemoveSubscriber change them locally at once and then write the new
// absolute count with one node.Mutation (fenced by membership), which
// updates the snapshot hashes and appends a RoomCounts control entry in
// the same script:
//
//	{sc}:rooms       room id → filter JSON (index, collection, normalized DNF)
//	{sc}:roomsubs    "<room id>|<node id>" → that node's count
//	{sc}:roomtotals  room id → cluster-wide count
//
// The filter travels in the entry only when the script registered the room.
// A room whose total reaches zero is removed from the hashes, and from every
// replica when its entry is applied. Writes of one room by one node are
// serialized, so its absolute counts reach Redis in order; entries carry
// absolute counts, so applying one twice is harmless, and a handler skips
// entries at or below the sequence of the snapshot it loaded.
//
// Other nodes see a subscription once they read its entry from the control
// stream (their blocked read wakes on the append, typically well under a
// millisecond after AddSubscriber returns): a write routed by another node
// in that window does not reach the new subscriber, as in Kuzzle's cluster.
// The local table mirrors realtime.Hub.LocalRooms (the hub calls
// AddSubscriber/RemoveSubscriber once per connection entering or leaving a
// room), and it also holds each room's filter, which LocalRooms lacks.
//
// On every node.Sync (join, rejoin, resync) the replica is reloaded from
// the hashes (read atomically with the sequence), ignoring counts of nodes
// that are not members, and this node re-announces all its counts (one
// RoomCounts entry with Replace, which replaces its fields): after a rejoin
// they were wiped with its membership, before the first join its writes
// were fenced, and after a resync (a failover may have lost writes) they
// may be stale.
// NodeLeft and NodeEvicted drop the departed node's counts from every
// replica; since node's leave and evict scripts do not know these keys, each
// node then runs an idempotent cleanup mutation that deletes the departed
// node's fields unless it is a member again. No ghost rooms: a replica drops
// a dead node's counts when its eviction is read, and a joiner never loads
// counts of a non-member.
//
// A cluster write that fails with node.ErrFenced is not an error: the local
// count stands and the rejoin re-announces it. Any other failure of
// AddSubscriber undoes the local count and is returned; a failed
// RemoveSubscriber keeps the local decrement and returns the error. Either
// way the write's outcome in Redis is unknown, so the registry marks itself
// dirty and re-announces all its counts on its next own heartbeat entry:
// the cluster converges within a heartbeat once Redis answers again.
//
// # Notification fan-out and delivery guarantee
//
// [Router.Route] delivers a message to this node's hub at once, then groups
// its rooms by the other nodes that have subscribers there (from the
// registry) and appends one Notify envelope per target node to that node's
// inbox (streams.Keys.Inbox), all in one pipelined round trip
// (streams.Appender.AppendBatch). [Router.Run] reads this node's inbox with a
// consumer.Reader in NoAck mode and hands each message to the hub. A node
// receives nothing for rooms it has no subscriber in.
//
// Targeted inboxes against one shared broadcast stream
// (BenchmarkFanoutTargetedVsBroadcast, raw Redis layer, one process on two
// shared cores, 8 concurrent writers; notifications per second delivered to
// every subscribed node, and entries read per notification):
//
//	nodes subscribed   targeted            broadcast
//	 3     1           76k-98k/s, 1 read    70k/s, 2 reads
//	 3     2           37k-43k/s, 2 reads   77k-80k/s, 2 reads
//	10     1           91k-94k/s, 1 read    38k/s, 9 reads
//	10     9           13k-14k/s, 9 reads   31k-43k/s, 9 reads
//
// Targeted costs one XADD per subscribed node and nothing on the others;
// broadcast costs one XADD, but every node reads (and decodes) every
// notification, and the shared stream lives on one shard. Targeted wins
// whenever few nodes hold a room's subscribers (the common case with many
// small rooms, and the only one that scales with the node count); broadcast
// wins for notifications whose rooms have subscribers on most nodes. This
// package implements targeted only. The rule to add if wide rooms dominate
// a workload: broadcast when the subscribed nodes exceed half of the
// cluster, targeted otherwise.
//
// Guarantee: at most once, in order per sender for sequential routes. An
// entry is lost if its target dies or is evicted (its inbox is deleted; its
// clients are gone too), if the inbox reader falls InboxMaxLen entries
// behind (MAXLEN ~ trims them), or if a Redis failover loses acknowledged
// appends. Nothing is re-read, so there is no duplicate to remove (entry-id
// deduplication is moot with NoAck). Losses are never silent: every
// envelope carries a per-sender, per-target sequence number (and the
// sender process's epoch as incarnation); the reader counts skipped numbers
// (RouterStats.Gaps, streamcluster_realtime_inbox_gaps_total) and late ones
// (Late); Gaps - Late is what was lost.
//
// # Cluster-wide events
//
// Events (NewEvents before Run) lets Go code embedding a node send its own
// events: Broadcast(ctx, event, payload) appends one "Event" control entry
// through a fenced node.Mutate, and every member, the sender included, runs
// the On(event, handler) handlers with the sender's id, in control stream
// order, on the node's driver goroutine. It lives here rather than in node
// because node knows only its own entry types and Mutations: an event is
// one more replicated entry type built on node's public API, like the
// registry's, and node stays free of application payloads. A fenced node
// (evicted, rejoining) gets node.ErrFenced from Broadcast; entries read
// during a resync gap are lost to it like any control entry.
//
// # Usage
//
//	n, _ := node.New(client, node.Config{ResetKeys: cluster.ResetKeys(streams.NewKeys(prefix)), ...})
//	reg, _ := cluster.NewRegistry(client, n, cluster.RegistryConfig{Logger: log})
//	hub := realtime.NewHub(realtime.HubConfig{}, reg)
//	router, _ := cluster.NewRouter(client, n, reg, hub, cluster.RouterConfig{Registerer: prom, Logger: log})
//	go n.Run(ctx); go router.Run(ctx)
//	svc := realtime.NewService(realtime.ServiceConfig{NodeID: n.ID()}, hub, reg, router, outState)
package cluster
