-- ARGV: id, incarnation (taken from KEYS[3] with INCR just before, so the
-- envelope could be encoded with it), card JSON, maxlen, then the
-- NodeJoined envelope (blob, sig), then the secret's fingerprint.
-- Registers the node with that incarnation, appends NodeJoined, places the
-- node's consumer group right after that entry and returns
-- {inc, seq, now, members, cards, heartbeats}, so snapshot + replay from
-- the group is exact. The last join wins, as when the INCR was inside the
-- script (two live processes with one id are a misconfiguration the nodes
-- log; see Node.apply).
-- KEYS[7] holds the fingerprint of the live members' secret, ARGV[7] this
-- node's: while other members are registered, a node with another
-- fingerprint (another secret, or none) is refused with {-1}, since nobody
-- would accept its entries nor it theirs.
local id, inc, card, maxlen = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local others = redis.call('HLEN', KEYS[4]) - redis.call('HEXISTS', KEYS[4], id)
local fp = redis.call('GET', KEYS[7])
if others > 0 and fp and fp ~= ARGV[7] then
  return {-1}
end
redis.call('SET', KEYS[7], ARGV[7])
local now = sc_now_ms()
redis.call('HSET', KEYS[4], id, inc)
redis.call('HSET', KEYS[5], id, card)
redis.call('HSET', KEYS[6], id, now)
local seq, eid = sc_append(maxlen, ARGV[5], ARGV[6])
redis.call('XGROUP', 'DESTROY', KEYS[1], id)
redis.call('XGROUP', 'CREATE', KEYS[1], id, eid)
return {inc, seq, now,
  redis.call('HGETALL', KEYS[4]), redis.call('HGETALL', KEYS[5]), redis.call('HGETALL', KEYS[6])}
