package cluster

import "github.com/redis/rueidis"

// The snapshot lives in three hashes under the control plane's hash tag:
//
//	{sc}:rooms       room id → filter JSON (koncorde.Filter.MarshalJSON)
//	{sc}:roomsubs    "<room id>|<node id>" → that node's subscriber count
//	{sc}:roomtotals  room id → cluster-wide subscriber count
//
// Room ids are 64 hex characters, so the first '|' of a roomsubs field
// splits it. A room is in {sc}:rooms exactly while its total is positive.

// luaRemoveNode is shared by the re-announce and cleanup bodies: it deletes
// every roomsubs field of node id (KEYS[1..3] = rooms, roomsubs, totals),
// updating totals and dropping rooms whose total reaches zero. It returns
// the number of fields removed.
const luaRemoveNode = `
local function remove_node(id)
  local suffix = '|' .. id
  local n = 0
  for _, f in ipairs(redis.call('HKEYS', KEYS[2])) do
    if #f > #suffix and string.sub(f, -#suffix) == suffix and string.find(f, '|', 1, true) == #f - #suffix + 1 then
      local room = string.sub(f, 1, #f - #suffix)
      local old = tonumber(redis.call('HGET', KEYS[2], f)) or 0
      redis.call('HDEL', KEYS[2], f)
      if redis.call('HINCRBY', KEYS[3], room, -old) <= 0 then
        redis.call('HDEL', KEYS[3], room)
        redis.call('HDEL', KEYS[1], room)
      end
      n = n + 1
    end
  end
  return n
end
`

// luaSetCount sets this node's absolute count of one room. ARGV: room,
// node, count, filter JSON. Entries: 1 = the count with the room's filter
// (appended when this call registers the room), 2 = the count alone.
const luaSetCount = `
local room, id, count, def = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local field = room .. '|' .. id
local old = tonumber(redis.call('HGET', KEYS[2], field) or '0')
if count > 0 then
  redis.call('HSET', KEYS[2], field, count)
else
  redis.call('HDEL', KEYS[2], field)
end
local total = redis.call('HINCRBY', KEYS[3], room, count - old)
if total <= 0 then
  redis.call('HDEL', KEYS[3], room)
  redis.call('HDEL', KEYS[1], room)
  return append(2)
end
if redis.call('HSETNX', KEYS[1], room, def) == 1 then
  return append(1)
end
return append(2)
`

// luaReplace replaces every count of node ARGV[1] by the triples (room,
// count, filter JSON) that follow, and appends entry 1.
const luaReplace = luaRemoveNode + `
local id = ARGV[1]
remove_node(id)
for i = 2, #ARGV, 3 do
  local room, count, def = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
  if count > 0 then
    redis.call('HSET', KEYS[2], room .. '|' .. id, count)
    redis.call('HINCRBY', KEYS[3], room, count)
    redis.call('HSETNX', KEYS[1], room, def)
  end
end
return append(1)
`

// luaCleanup removes the counts of a departed node ARGV[1] unless it is a
// member again (KEYS[4] = members): a node that rejoined replaces its own
// counts. Appends nothing: every node already dropped them on the
// NodeLeft/NodeEvicted entry.
const luaCleanup = luaRemoveNode + `
if redis.call('HEXISTS', KEYS[4], ARGV[1]) == 1 then
  return 0
end
return remove_node(ARGV[1])
`

// snapshotScript reads the snapshot and the sequence it is at, atomically.
// KEYS: seq, rooms, roomsubs, members.
var snapshotScript = rueidis.NewLuaScript(`
return {redis.call('GET', KEYS[1]) or '0', redis.call('HGETALL', KEYS[2]), redis.call('HGETALL', KEYS[3]), redis.call('HGETALL', KEYS[4])}
`)
