package node

// Keys names the Redis keys of a cluster. Control-plane keys share the hash
// tag {prefix}, so Lua scripts can touch them atomically on a Redis Cluster.
type Keys struct {
	Prefix string
}

// Tag is the hash tag of the control plane, "{sc}" by default. Keys of
// replicated state that a Mutation touches must contain it.
func (k Keys) Tag() string { return "{" + k.Prefix + "}" }

// Control is the control stream: every membership event and mutation.
func (k Keys) Control() string { return k.Tag() + ":control" }

// Seq is the cluster-wide sequence counter of control entries.
func (k Keys) Seq() string { return k.Tag() + ":seq" }

// Incarnation is the counter that gives every join a new incarnation.
func (k Keys) Incarnation() string { return k.Tag() + ":incarnation" }

// Members maps node id → current incarnation.
func (k Keys) Members() string { return k.Tag() + ":members" }

// Nodes maps node id → id card (JSON).
func (k Keys) Nodes() string { return k.Tag() + ":nodes" }

// Heartbeats maps node id → Redis TIME (ms) of its last heartbeat.
func (k Keys) Heartbeats() string { return k.Tag() + ":hb" }

// Inbox is the directed stream of node id: "sc:{node-<id>}:inbox".
func (k Keys) Inbox(id string) string { return k.Prefix + ":{node-" + id + "}:inbox" }

// script returns the six keys every control-plane script takes first.
func (k Keys) script() []string {
	return []string{k.Control(), k.Seq(), k.Incarnation(), k.Members(), k.Nodes(), k.Heartbeats()}
}
