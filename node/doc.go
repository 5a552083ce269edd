// Package node is cluster membership over Redis Streams: join, heartbeats,
// failure detection, eviction, fencing, rejoin, graceful leave, sequence-gap
// resync and readiness.
//
// # Redis layout
//
// Key names come from streams.Keys. Every control-plane key shares the
// hash tag {prefix} (streams.Keys.Tag), so one Lua script updates the snapshot and
// appends to the control stream atomically:
//
//   - {sc}:control: the control stream. Every entry is a streams envelope
//     (fields "e" and, with a secret, "s"; see package streams) whose type
//     is the entry type, sender the node id, incarnation the sender's
//     incarnation and payload the entry's data, plus field "q": the
//     cluster-wide sequence number taken from {sc}:seq in the same script
//     (streams.ControlAppendLua, the code of streams.Appender.AppendControl);
//   - {sc}:members (id → incarnation), {sc}:nodes (id → id card JSON),
//     {sc}:hb (id → Redis TIME in ms of its last heartbeat): the snapshot;
//   - {sc}:seq and {sc}:incarnation: counters, kept by Reset;
//   - {sc}:secret-fingerprint: an HMAC of a fixed text under the members'
//     Config.Secret ("unsigned" without one), set by every join; while
//     other members are registered, a node with another fingerprint is
//     refused (ErrSecretMismatch) rather than joining a cluster whose
//     entries it would reject and which would reject its own;
//   - sc:{node-<id>}:inbox: the node's inbox stream (group = node id).
//
// Each node reads the control stream through its own consumer group
// (group = node id), created by the join script right after its NodeJoined
// entry, so snapshot + replay is exact. Entries must arrive with
// consecutive sequence numbers; any other number (a trimmed stream, a
// failover that lost acknowledged writes) makes the node resync from the
// snapshot (SyncResync).
//
// The node reads the control stream with its own XREADGROUP loop rather
// than a consumer.Reader on purpose: the group's lifecycle is membership.
// The join script creates it at the NodeJoined entry, eviction and leave
// destroy it, resync moves it; a NOGROUP reply therefore means "this node
// was evicted or the cluster was reset" and must lead to a resync or a
// rejoin, which consumer.Reader's automatic group re-creation would hide
// (it would silently resume from a position that matches no snapshot).
// The loop also reads with NOACK (the group's position is the node's
// position; nothing is ever re-read) and interleaves heartbeats and
// evictions on the same goroutine. consumer.Groups gives the groups' lag.
//
// # Signed control entries
//
// Every control entry is encoded in Go with the node's streams.Codec
// (Config.Secret): the node itself encodes its NodeJoined, Heartbeat and
// NodeLeft, the evictor encodes the NodeEvicted it appends on behalf of
// the cluster, and Mutate encodes the entries a Mutation appends. The
// scripts only add field "q". With a secret, every entry is signed with
// HMAC-SHA256 and every read entry is verified.
//
// An entry that the codec rejects (malformed, unknown version, unsigned,
// badly signed) is skipped: logged at warn level ("control entry rejected
// and skipped"), counted (Node.Rejected and the metric
// streamcluster_control_rejected_total{reason}), never handed to a
// handler, and it does not advance the node's sequence, whatever "q" it
// carries. The sequence is outside the signature (Lua cannot sign), so a
// rejected entry's "q" is not trusted either. Garbage XADDed straight into
// the stream does not take a sequence number, so valid entries behind it
// apply as usual. A forged entry appended through a script that INCRs
// {sc}:seq burns a real sequence number: the next valid entry shows a gap
// and the node resyncs from the snapshot. So a writer who can reach Redis
// but lacks the secret cannot change membership or replicated state; the
// most it can do is burn sequence numbers and cost resyncs.
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
// under Keys().Tag() and change it only through a Mutation run by
// Node.Mutate: the body runs fenced, in the same script as the control
// entries it appends (given to Mutate as Append values, encoded and signed
// in Go; the body picks them with append(i)). Every node applies those entries with handlers
// registered by Node.Handle (in stream order, on the driver goroutine) and
// reloads its state on Node.OnSync (join, rejoin, resync; on rejoin it
// re-announces its live local state). Handlers for NodeLeft and NodeEvicted
// let it drop a departed node's share of the state: a NodeLeft entry's
// Entry.Node is the node that left; a NodeEvicted entry's Entry.Node is the
// evictor and its Data the JSON of a NodeEvicted value, whose ID is the
// evicted node. Extra keys to wipe on
// Reset go in Config.ResetKeys.
//
// # Usage
//
//	client, err := streams.NewClient(streams.Config{Addrs: addrs})
//	n, err := node.New(client, node.Config{APIAddress: "10.0.0.5:7512", Secret: secret, Registerer: reg, Logger: log})
//	go func() { errc <- n.Run(ctx) }()   // joins, then runs until ctx is done
//	...
//	<-errc
//	err = n.Leave(shutdownCtx)            // NodeLeft, group and inbox deleted
package node
