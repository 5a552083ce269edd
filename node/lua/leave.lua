-- ARGV: id, incarnation, maxlen, then the NodeLeft envelope (blob, sig).
-- Returns {0} when fenced, else {1, seq}.
local id, inc, maxlen = ARGV[1], ARGV[2], ARGV[3]
if not sc_member(id, inc) then
  return {0}
end
sc_remove(id)
local seq = sc_append(maxlen, ARGV[4], ARGV[5])
return {1, seq}
