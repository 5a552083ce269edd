-- Wrapper of a Mutation body. ARGV[1..3]: id, incarnation, maxlen;
-- ARGV[4]: the number n of entries the body may append, encoded (and
-- signed) in Go; ARGV[5..4+2n]: their blob and sig; the body's own
-- arguments follow. KEYS[7..] are the body's keys.
-- Returns {0} when fenced, else {1, <body result>}.
if not sc_member(ARGV[1], ARGV[2]) then
  return {0}
end
local sc_n = tonumber(ARGV[4])
local sc_keys, sc_args, sc_used = {}, {}, {}
for i = 7, #KEYS do sc_keys[#sc_keys + 1] = KEYS[i] end
for i = 5 + 2 * sc_n, #ARGV do sc_args[#sc_args + 1] = ARGV[i] end
-- append(i) appends the i-th entry given to Node.Mutate (1-based) and
-- returns its sequence number. Each entry is appended at most once.
local function append(i)
  if type(i) ~= 'number' or i < 1 or i > sc_n or i ~= math.floor(i) then
    error('append: no entry ' .. tostring(i) .. ' (Mutate got ' .. sc_n .. ')')
  end
  if sc_used[i] then
    error('append: entry ' .. i .. ' appended twice')
  end
  sc_used[i] = true
  local seq = sc_append(ARGV[3], ARGV[3 + 2 * i], ARGV[4 + 2 * i])
  return seq
end
local function body(KEYS, ARGV)
--[[BODY]]
end
return {1, body(sc_keys, sc_args)}
