-- ARGV: id, incarnation, maxlen, then the Heartbeat envelope (blob, sig).
-- Returns {0} when the node is not a member with this incarnation (fenced),
-- else {1, seq, Redis time in ms}.
local id, inc, maxlen = ARGV[1], ARGV[2], ARGV[3]
if not sc_member(id, inc) then
  return {0}
end
local now = sc_now_ms()
redis.call('HSET', KEYS[6], id, now)
local seq = sc_append(maxlen, ARGV[4], ARGV[5])
return {1, seq, now}
