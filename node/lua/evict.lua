-- ARGV: target id, target incarnation, timeout ms, evictor id, evictor
-- incarnation, maxlen, then the NodeEvicted envelope encoded by the
-- evictor (blob, sig).
-- Returns {-2} when the evictor is fenced, {0} when the target is already
-- gone or has another incarnation, {-1, silence ms} when Redis saw the
-- target's heartbeat within the timeout, else evicts and returns
-- {1, seq, silence ms}.
local target, tinc, timeout = ARGV[1], ARGV[2], tonumber(ARGV[3])
local by, byinc, maxlen = ARGV[4], ARGV[5], ARGV[6]
if not sc_member(by, byinc) then
  return {-2}
end
if not sc_member(target, tinc) then
  return {0}
end
local now = sc_now_ms()
local last = tonumber(redis.call('HGET', KEYS[6], target) or '0')
local silence = now - last
if silence <= timeout then
  return {-1, silence}
end
sc_remove(target)
local seq = sc_append(maxlen, ARGV[7], ARGV[8])
return {1, seq, silence}
