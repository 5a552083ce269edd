-- Shared prelude of every control-plane script (scripts.go prepends
-- streams.ControlAppendLua, then this file).
-- KEYS[1] control stream, KEYS[2] sequence counter, KEYS[3] incarnation
-- counter, KEYS[4] members (id -> incarnation), KEYS[5] id cards
-- (id -> JSON), KEYS[6] last heartbeats (id -> Redis TIME in ms).
-- Every key shares the {prefix} hash tag, so one script touches them all.
local function sc_now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- sc_member reports whether id is a member with incarnation inc (a string).
local function sc_member(id, inc)
  return redis.call('HGET', KEYS[4], id) == inc
end

-- sc_append appends one control entry, a streams envelope encoded (and
-- signed) by the Go caller and passed as blob and sig ("" when unsigned),
-- with the next cluster-wide sequence number in field "q". Returns that
-- number and the entry id.
local function sc_append(maxlen, blob, sig)
  return streams_append_control(KEYS[1], KEYS[2], maxlen, streams_fields(blob, sig))
end

-- sc_remove deletes a member and its consumer group on the control stream.
local function sc_remove(id)
  redis.call('HDEL', KEYS[4], id)
  redis.call('HDEL', KEYS[5], id)
  redis.call('HDEL', KEYS[6], id)
  if redis.call('EXISTS', KEYS[1]) == 1 then
    redis.call('XGROUP', 'DESTROY', KEYS[1], id)
  end
end
