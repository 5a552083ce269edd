-- Deletes one document and returns it.
-- KEYS[1] collection marker, KEYS[2] sources hash, KEYS[3] versions hash
-- ARGV[1] document id
-- Returns {"nocoll"} | {"notfound"} | {"ok", source, version}
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'nocoll'}
end
local src = redis.call('HGET', KEYS[2], ARGV[1])
if not src then
  return {'notfound'}
end
local v = redis.call('HGET', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return {'ok', src, v}
