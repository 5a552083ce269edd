package node

import (
	_ "embed"
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

// Scripts are loaded with EVALSHA and fall back to EVAL on NOSCRIPT (a
// fresh master after a failover), which rueidis.Lua does for us.
var (
	scriptJoin      = rueidis.NewLuaScript(luaCommon + luaJoin)
	scriptHeartbeat = rueidis.NewLuaScript(luaCommon + luaHeartbeat)
	scriptEvict     = rueidis.NewLuaScript(luaCommon + luaEvict)
	scriptLeave     = rueidis.NewLuaScript(luaCommon + luaLeave)
	scriptResync    = rueidis.NewLuaScript(luaCommon + luaResync)
	scriptReset     = rueidis.NewLuaScript(luaCommon + luaReset)
)

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
	script *rueidis.Lua
}

// NewMutation compiles body into a fenced script.
func NewMutation(body string) *Mutation {
	src := luaCommon + strings.Replace(luaMutate, "--[[BODY]]", body, 1)
	return &Mutation{script: rueidis.NewLuaScript(src)}
}
