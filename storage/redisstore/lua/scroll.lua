-- Pops the next page of a scroll cursor and extends its life.
-- KEYS[1] remaining ids list, KEYS[2] cursor hash {index, coll, total, size, ttl}
-- ARGV[1] new time to live in milliseconds (0 = keep the cursor's own)
-- Returns nil when the cursor does not exist, else {index, coll, total, {ids}}
if redis.call('EXISTS', KEYS[2]) == 0 then
  return false
end
local m = redis.call('HMGET', KEYS[2], 'index', 'coll', 'total', 'size', 'ttl')
local ttl = tonumber(ARGV[1])
if ttl == 0 then
  ttl = tonumber(m[5])
end
local ids = redis.call('LPOP', KEYS[1], tonumber(m[4])) or {}
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return {m[1], m[2], m[3], ids}
