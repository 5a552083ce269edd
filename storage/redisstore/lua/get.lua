-- Reads documents with their versions in one consistent snapshot.
-- KEYS[1] collection marker, KEYS[2] sources hash, KEYS[3] versions hash
-- ARGV: document ids; none means every document of the collection.
-- Returns {"nocoll"} | {"ok", id1, source1, version1, ...} (missing ids omitted)
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'nocoll'}
end
local out = {'ok'}
if #ARGV == 0 then
  local all = redis.call('HGETALL', KEYS[2])
  local vers = redis.call('HGETALL', KEYS[3])
  local v = {}
  for i = 1, #vers, 2 do
    v[vers[i]] = vers[i + 1]
  end
  for i = 1, #all, 2 do
    out[#out + 1] = all[i]
    out[#out + 1] = all[i + 1]
    out[#out + 1] = v[all[i]] or '0'
  end
  return out
end
for i = 1, #ARGV do
  local src = redis.call('HGET', KEYS[2], ARGV[i])
  if src then
    out[#out + 1] = ARGV[i]
    out[#out + 1] = src
    out[#out + 1] = redis.call('HGET', KEYS[3], ARGV[i]) or '0'
  end
end
return out
