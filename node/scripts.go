package node

import (
	"context"
	_ "embed"
	"log/slog"
	"strings"

	"github.com/redis/rueidis"

	"github.com/streamcluster/streamcluster/streams"
)

var (
	//go:embed lua/common.lua
	luaCommon string
	//go:embed lua/join.lua
	luaJoin string
	//go:embed lua/heartbeat.lua
	luaHeartbeat string
	//go:embed lua/evict.lua
	luaEvict string
	//go:embed lua/leave.lua
	luaLeave string
	//go:embed lua/resync.lua
	luaResync string
	//go:embed lua/reset.lua
	luaReset string
	//go:embed lua/mutate.lua
	luaMutate string
)

// script is a Lua script with its source (for EVAL on the dedicated
// connection that WAIT needs).
type script struct {
	lua *rueidis.Lua
	src string
}

func newScript(src string) *script {
	return &script{lua: rueidis.NewLuaScript(src), src: src}
}

// prelude is prepended to every control-plane script: streams' control
// append (INCR of the sequence, XADD with the sequence in field "q", the
// same code as streams.Appender.AppendControl), then node's helpers.
var prelude = streams.ControlAppendLua + luaCommon

// Scripts are loaded with EVALSHA and fall back to EVAL on NOSCRIPT (a
// fresh master after a failover), which rueidis.Lua does for us.
var (
	scriptJoin      = newScript(prelude + luaJoin)
	scriptHeartbeat = newScript(prelude + luaHeartbeat)
	scriptEvict     = newScript(prelude + luaEvict)
	scriptLeave     = newScript(prelude + luaLeave)
	scriptResync    = newScript(prelude + luaResync)
	scriptReset     = newScript(prelude + luaReset)
)

// exec runs s. Membership changes and mutations (wait true) are followed
// by WAIT Config.WaitReplicas on the same connection when it is set, which
// narrows the window in which a failover loses an acknowledged write.
func (n *Node) exec(ctx context.Context, s *script, keys, args []string, wait bool) rueidis.RedisResult {
	if !wait || n.cfg.WaitReplicas <= 0 {
		return s.lua.Exec(ctx, n.client, keys, args)
	}
	var res rueidis.RedisResult
	err := n.client.Dedicated(func(c rueidis.DedicatedClient) error {
		rs := c.DoMulti(ctx,
			c.B().Eval().Script(s.src).Numkeys(int64(len(keys))).Key(keys...).Arg(args...).Build(),
			c.B().Wait().Numreplicas(int64(n.cfg.WaitReplicas)).Timeout(n.cfg.WaitTimeout.Milliseconds()).Build())
		res = rs[0]
		if acked, err := rs[1].AsInt64(); err != nil || acked < int64(n.cfg.WaitReplicas) {
			n.log.Warn("control-plane write not acknowledged by enough replicas",
				slog.Int64("acked", acked), slog.Int("wanted", n.cfg.WaitReplicas), slog.Any("err", err))
		}
		return nil
	})
	if err != nil {
		return rueidis.NewErrorResult(err)
	}
	return res
}

// Mutation is a fenced Lua script that changes replicated state: the
// extension point of the realtime layer. Its body runs only when the
// calling node is a current member with its current incarnation, in the
// same script as the control-stream append, so the snapshot and the stream
// never disagree. In the body:
//
//   - KEYS and ARGV are the keys and arguments given to Node.Mutate (the
//     keys must contain Node.Keys().Tag(), the control plane's hash tag);
//   - append(i) appends the i-th control entry given to Node.Mutate
//     (1-based) and returns its sequence number; every node's handler for
//     its type (Node.Handle) then sees it, in order. The entries are
//     streams envelopes encoded and signed in Go before the script runs
//     (Lua cannot sign), so their type and data are fixed by the caller:
//     the body chooses whether and in which order to append them, not
//     what they say. An index out of range, or an entry appended twice,
//     raises a script error (writes the body made before it stay, as with
//     any Redis script error);
//   - the body's return value is what Node.Mutate returns.
//
// Example body:
//
//	redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
//	return append(1)   -- Mutate(ctx, m, keys, args, node.Append{Type: "RoomCreated", Data: ...})
type Mutation struct {
	script *script
}

// NewMutation compiles body into a fenced script.
func NewMutation(body string) *Mutation {
	src := prelude + strings.Replace(luaMutate, "--[[BODY]]", body, 1)
	return &Mutation{script: newScript(src)}
}

// Append is a control entry a Mutation body may append with append(i).
type Append struct {
	// Type names the entry (1 to streams.MaxTypeLen printable ASCII
	// characters without spaces); handlers registered for it see it.
	Type string
	// Data is the entry's payload, opaque to the node.
	Data []byte
}
