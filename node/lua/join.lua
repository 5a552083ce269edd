-- ARGV: id, card JSON, maxlen.
-- Registers the node with a new incarnation, appends NodeJoined, places the
-- node's consumer group right after that entry and returns the snapshot, so
-- snapshot + replay from the group is exact.
local id, card, maxlen = ARGV[1], ARGV[2], ARGV[3]
local now = sc_now_ms()
local inc = tostring(redis.call('INCR', KEYS[3]))
redis.call('HSET', KEYS[4], id, inc)
redis.call('HSET', KEYS[5], id, card)
redis.call('HSET', KEYS[6], id, now)
local seq, eid = sc_append(maxlen, 'NodeJoined', id, inc, card)
redis.call('XGROUP', 'DESTROY', KEYS[1], id)
redis.call('XGROUP', 'CREATE', KEYS[1], id, eid)
return {inc, seq, now,
  redis.call('HGETALL', KEYS[4]), redis.call('HGETALL', KEYS[5]), redis.call('HGETALL', KEYS[6])}
