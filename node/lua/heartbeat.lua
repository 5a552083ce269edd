-- ARGV: id, incarnation, maxlen, data JSON.
-- Returns {0} when the node is not a member with this incarnation (fenced),
-- else {1, seq, Redis time in ms}.
local id, inc, maxlen, data = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if not sc_member(id, inc) then
  return {0}
end
local now = sc_now_ms()
redis.call('HSET', KEYS[6], id, now)
local seq = sc_append(maxlen, 'Heartbeat', id, inc, data)
return {1, seq, now}
