-- Writes one document source and bumps its version atomically.
-- KEYS[1] collection marker (mappings), KEYS[2] sources hash, KEYS[3] versions hash
-- ARGV[1] mode: "create" | "createOrReplace" | "replace"
-- ARGV[2] document id, ARGV[3] source JSON
-- Returns {"nocoll"} | {"exists"} | {"notfound"} | {"created"|"replaced", version}
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'nocoll'}
end
local exists = redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1
if ARGV[1] == 'create' and exists then
  return {'exists'}
end
if ARGV[1] == 'replace' and not exists then
  return {'notfound'}
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
local v = redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
if exists then
  return {'replaced', v}
end
return {'created', v}
