-- Appends one entry to the control stream with the next cluster sequence.
-- KEYS[1]  the control stream ({sc}:control)
-- KEYS[2]  the sequence counter ({sc}:seq), same hash slot
-- ARGV[1]  approximate MAXLEN; "0" or negative disables trimming
-- ARGV[2…] the entry's field/value pairs (Fields.Args of EncodeControl)
-- Returns {seq, id}.
local seq = redis.call('INCR', KEYS[2])
local cmd = {'XADD', KEYS[1]}
local maxlen = tonumber(ARGV[1])
if maxlen and maxlen > 0 then
  cmd[#cmd + 1] = 'MAXLEN'
  cmd[#cmd + 1] = '~'
  cmd[#cmd + 1] = ARGV[1]
end
cmd[#cmd + 1] = '*'
cmd[#cmd + 1] = 'q'
cmd[#cmd + 1] = tostring(seq)
for i = 2, #ARGV do
  cmd[#cmd + 1] = ARGV[i]
end
local id = redis.call(unpack(cmd))
return {seq, id}
