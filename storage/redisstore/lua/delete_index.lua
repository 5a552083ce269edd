-- Removes an index from the registry and returns its collections.
-- KEYS[1] index set, KEYS[2] the index's collection set
-- ARGV[1] index name
-- Returns nil when the index does not exist, else the collection names.
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then
  return false
end
local colls = redis.call('SMEMBERS', KEYS[2])
redis.call('DEL', KEYS[2])
return colls
