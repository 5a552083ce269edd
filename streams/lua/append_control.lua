-- Appends one entry to the control stream with the next cluster sequence
-- (prefixed by control_lib.lua, which defines streams_append_control).
-- KEYS[1]  the control stream ({sc}:control)
-- KEYS[2]  the sequence counter ({sc}:seq), same hash slot
-- ARGV[1]  approximate MAXLEN; "0" or negative disables trimming
-- ARGV[2…] the entry's field/value pairs (Fields.Args of EncodeControl)
-- Returns {seq, id}.
local fields = {}
for i = 2, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
local seq, id = streams_append_control(KEYS[1], KEYS[2], ARGV[1], fields)
return {seq, id}
