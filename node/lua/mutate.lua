-- Wrapper of a Mutation body. ARGV[1..3]: id, incarnation, maxlen; the
-- body's own arguments follow. KEYS[7..] are the body's keys.
-- Returns {0} when fenced, else {1, <body result>}.
if not sc_member(ARGV[1], ARGV[2]) then
  return {0}
end
local sc_keys, sc_args = {}, {}
for i = 7, #KEYS do sc_keys[#sc_keys + 1] = KEYS[i] end
for i = 4, #ARGV do sc_args[#sc_args + 1] = ARGV[i] end
-- append(type, data) appends an entry from this node and returns its seq.
local function append(typ, data)
  local seq = sc_append(ARGV[3], typ, ARGV[1], ARGV[2], data)
  return seq
end
local function body(KEYS, ARGV)
--[[BODY]]
end
return {1, body(sc_keys, sc_args)}
