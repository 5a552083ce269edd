-- Compare-and-set of one document: writes only if its version is still the
-- one the caller read (0 = the document must not exist).
-- KEYS[1] collection marker, KEYS[2] sources hash, KEYS[3] versions hash
-- ARGV[1] document id, ARGV[2] expected version, ARGV[3] new source JSON
-- Returns {"nocoll"} | {"conflict", current} | {"ok", version}
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'nocoll'}
end
local cur = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
if cur ~= tonumber(ARGV[2]) then
  return {'conflict', cur}
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return {'ok', redis.call('HINCRBY', KEYS[3], ARGV[1], 1)}
