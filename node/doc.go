// Package node is cluster membership over Redis Streams: join, heartbeats,
// failure detection, eviction, fencing, rejoin, graceful leave, sequence-gap
// resync and readiness.
//
// # Redis layout
//
// Every control-plane key shares the hash tag {prefix} (see Keys), so one
// Lua script updates the snapshot and appends to the control stream
// atomically:
//
//   - {sc}:control: the control stream; each entry has fields t (type),
//     s (cluster-wide sequence number from {sc}:seq, taken in the same
//     script), n (sender id), i (sender incarnation), d (data);
//   - {sc}:members (id → incarnation), {sc}:nodes (id → id card JSON),
//     {sc}:hb (id → Redis TIME in ms of its last heartbeat): the snapshot;
//   - {sc}:seq and {sc}:incarnation: counters, kept by Reset;
//   - sc:{node-<id>}:inbox: the node's inbox stream (group = node id).
//
// Each node reads the control stream through its own consumer group
// (group = node id), created by the join script right after its NodeJoined
// entry, so snapshot + replay is exact. Entries must arrive with
// consecutive sequence numbers; any other number (a trimmed stream, a
// failover that lost acknowledged writes) makes the node resync from the
// snapshot (SyncResync).
//
// # Failure detection and fencing
//
// Detector is a pure state machine driven by the node's single driver
// goroutine. A peer silent for Config.EvictionTimeout is evicted by a
// script that re-checks its last heartbeat against Redis TIME, deletes its
// membership and group and appends NodeEvicted; the evictor then deletes
// the peer's inbox. Every mutating script first checks that its sender is
// a member with its current incarnation. A fenced node (evicted, or after
// Reset) notices on its next heartbeat or read, becomes not ready, rejoins
// with a new incarnation and runs its OnSync callbacks with SyncRejoin.
// A node that cannot reach Redis evicts nobody and is not ready; after an
// outage it gives its peers a timeout plus the outage's length (capped) to
// find the new master before it suspects them, and the eviction script's
// Redis TIME check protects peers whose heartbeats Redis did record.
//
// With Config.WaitReplicas set, joins, evictions, leaves and mutations are
// followed by WAIT on the same connection (heartbeats never wait); a
// failover can still lose a write, which the sequence check then catches.
//
// # Extension point for replicated state
//
// Other packages (the realtime layer) keep their replicated state in keys
// under Keys.Tag() and change it only through a Mutation run by
// Node.Mutate: the body runs fenced, in the same script as the control
// entry it appends. Every node applies those entries with handlers
// registered by Node.Handle (in stream order, on the driver goroutine) and
// reloads its state on Node.OnSync (join, rejoin, resync; on rejoin it
// re-announces its live local state). Handlers for NodeLeft and NodeEvicted
// let it drop a departed node's share of the state. Extra keys to wipe on
// Reset go in Config.ResetKeys.
//
// # Usage
//
//	n, err := node.New(client, node.Config{APIAddress: "10.0.0.5:7512", Registerer: reg, Logger: log})
//	go func() { errc <- n.Run(ctx) }()   // joins, then runs until ctx is done
//	...
//	<-errc
//	err = n.Leave(shutdownCtx)            // NodeLeft, group and inbox deleted
package node
