-- ARGV: id, incarnation.
-- Moves the node's group to the end of the control stream (creating it if
-- it was lost) and returns the snapshot at that point: {0} when fenced,
-- else {1, seq, members, cards, heartbeats}.
local id, inc = ARGV[1], ARGV[2]
if not sc_member(id, inc) then
  return {0}
end
local ok = pcall(redis.call, 'XGROUP', 'SETID', KEYS[1], id, '$')
if not ok then
  redis.call('XGROUP', 'CREATE', KEYS[1], id, '$', 'MKSTREAM')
end
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
return {1, seq,
  redis.call('HGETALL', KEYS[4]), redis.call('HGETALL', KEYS[5]), redis.call('HGETALL', KEYS[6])}
