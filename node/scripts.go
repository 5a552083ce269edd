package node

import (
	"context"
	_ "embed"
	"log/slog"
	"strings"

	"github.com/redis/rueidis"
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

// Scripts are loaded with EVALSHA and fall back to EVAL on NOSCRIPT (a
// fresh master after a failover), which rueidis.Lua does for us.
var (
	scriptJoin      = newScript(luaCommon + luaJoin)
	scriptHeartbeat = newScript(luaCommon + luaHeartbeat)
	scriptEvict     = newScript(luaCommon + luaEvict)
	scriptLeave     = newScript(luaCommon + luaLeave)
	scriptResync    = newScript(luaCommon + luaResync)
	scriptReset     = newScript(luaCommon + luaReset)
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
//     keys must contain Keys.Tag(), the control plane's hash tag);
//   - append(type, data) appends a control entry of that type from this
//     node and returns its sequence number; every node's handler for that
//     type (Node.Handle) then sees it, in order;
//   - the body's return value is what Node.Mutate returns.
//
// Example body:
//
//	redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
//	return append('RoomCreated', ARGV[2])
type Mutation struct {
	script *script
}

// NewMutation compiles body into a fenced script.
func NewMutation(body string) *Mutation {
	src := luaCommon + strings.Replace(luaMutate, "--[[BODY]]", body, 1)
	return &Mutation{script: newScript(src)}
}
