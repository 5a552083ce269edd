package streams

import (
	"fmt"
	"strings"
)

// MaxNodeIDLen is the longest node id accepted by ValidateNodeID.
const MaxNodeIDLen = 128

// Keys names every Redis key of one cluster, as DESIGN.md lays them out.
// With prefix "sc":
//
//	{sc}:control            control stream
//	{sc}:seq                cluster sequence counter
//	{sc}:nodes, {sc}:rooms  snapshot keys (ControlKey for others)
//	{sc}:members, {sc}:hb   membership snapshot (ids → incarnation, last heartbeat)
//	{sc}:incarnation        incarnation counter
//	sc:{node-<id>}:inbox    a node's inbox stream
//
// Control-plane keys share the hash tag {sc} so one Lua script may touch
// them all on a Redis Cluster; inboxes have one hash tag per node so they
// spread over the shards. The zero value is not usable: call NewKeys.
type Keys struct {
	prefix string
	tag    string // "{sc}:"
}

// NewKeys returns the key names for prefix ("" means DefaultPrefix). The
// prefix is not validated here: Config.Validate and ValidatePrefix do.
func NewKeys(prefix string) Keys {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return Keys{prefix: prefix, tag: "{" + prefix + "}:"}
}

// Prefix returns the prefix.
func (k Keys) Prefix() string { return k.prefix }

// Tag is the control plane's hash tag, "{sc}". Every key that a script
// touches together with the control stream must contain it.
func (k Keys) Tag() string { return k.tag[:len(k.tag)-1] }

// Control is the control stream, "{sc}:control".
func (k Keys) Control() string { return k.tag + "control" }

// Seq is the cluster sequence counter, "{sc}:seq".
func (k Keys) Seq() string { return k.tag + "seq" }

// Nodes is the members snapshot, "{sc}:nodes".
func (k Keys) Nodes() string { return k.tag + "nodes" }

// Rooms is the rooms snapshot, "{sc}:rooms".
func (k Keys) Rooms() string { return k.tag + "rooms" }

// Members maps node id → current incarnation, "{sc}:members".
func (k Keys) Members() string { return k.tag + "members" }

// Heartbeats maps node id → Redis TIME (ms) of its last heartbeat,
// "{sc}:hb".
func (k Keys) Heartbeats() string { return k.tag + "hb" }

// Incarnation is the counter that gives every join of a node a new
// incarnation, "{sc}:incarnation".
func (k Keys) Incarnation() string { return k.tag + "incarnation" }

// ControlKey is any other control-plane key, "{sc}:<name>", in the same
// hash slot as the control stream.
func (k Keys) ControlKey(name string) string { return k.tag + name }

// Inbox is a node's inbox stream, "sc:{node-<id>}:inbox".
func (k Keys) Inbox(nodeID string) string { return k.NodeKey(nodeID, "inbox") }

// NodeKey is any per-node key, "sc:{node-<id>}:<name>", in the slot of the
// node's inbox.
func (k Keys) NodeKey(nodeID, name string) string {
	return k.prefix + ":{node-" + nodeID + "}:" + name
}

// DeadLetter is the dead-letter stream of a stream: "<stream>:dead". It
// keeps the stream's hash tag, so it lives on the same shard.
func (k Keys) DeadLetter(stream string) string { return stream + ":dead" }

// ValidateNodeID checks that a node id can be embedded in key names and
// envelopes: 1 to MaxNodeIDLen printable ASCII characters, none of them
// '{', '}' or ':'.
func ValidateNodeID(id string) error {
	if id == "" || len(id) > MaxNodeIDLen {
		return fmt.Errorf("%w: node id must be 1 to %d bytes, got %d", ErrInvalidConfig, MaxNodeIDLen, len(id))
	}
	if !printable(id) || strings.ContainsAny(id, "{}:") {
		return fmt.Errorf("%w: node id %q must be printable ASCII without spaces, '{', '}' or ':'", ErrInvalidConfig, id)
	}
	return nil
}

// printable tells whether s is made of printable ASCII without spaces.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
