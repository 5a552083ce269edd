-- ARGV: target id, target incarnation, timeout ms, evictor id, evictor
-- incarnation, maxlen, reason.
-- Returns {-2} when the evictor is fenced, {0} when the target is already
-- gone or has another incarnation, {-1, silence ms} when Redis saw the
-- target's heartbeat within the timeout, else evicts and returns {1, seq}.
local target, tinc, timeout = ARGV[1], ARGV[2], tonumber(ARGV[3])
local by, byinc, maxlen, reason = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
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
local data = cjson.encode({id = target, incarnation = tinc, reason = reason, silenceMs = silence})
local seq = sc_append(maxlen, 'NodeEvicted', by, byinc, data)
return {1, seq}
