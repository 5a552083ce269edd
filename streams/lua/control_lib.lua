-- streams_append_control appends one envelope to a control stream with the
-- next cluster sequence in field "q" (see the package doc): INCR of seqkey,
-- then XADD stream [MAXLEN ~ maxlen] * q <seq> <fields...>. fields is a Lua
-- array of field/value pairs (Fields.Args of Codec.EncodeControl); maxlen
-- "0" or negative disables trimming. seqkey must share the stream's hash
-- slot. Returns the sequence and the entry id.
-- Other packages prepend this source (streams.ControlAppendLua) to scripts
-- that append control entries in the same script as other writes.
local function streams_append_control(stream, seqkey, maxlen, fields)
  local seq = redis.call('INCR', seqkey)
  local cmd = {'XADD', stream}
  local n = tonumber(maxlen)
  if n and n > 0 then
    cmd[#cmd + 1] = 'MAXLEN'
    cmd[#cmd + 1] = '~'
    cmd[#cmd + 1] = tostring(maxlen)
  end
  cmd[#cmd + 1] = '*'
  cmd[#cmd + 1] = 'q'
  cmd[#cmd + 1] = tostring(seq)
  for i = 1, #fields do
    cmd[#cmd + 1] = fields[i]
  end
  return seq, redis.call(unpack(cmd))
end

-- streams_fields returns the field/value pairs of an encoded envelope
-- passed to a script as two arguments, blob and signature ("" when the
-- codec does not sign).
local function streams_fields(blob, sig)
  if sig == nil or sig == '' then
    return {'e', blob}
  end
  return {'e', blob, 's', sig}
end
