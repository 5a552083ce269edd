-- KEYS[7..]: extra replicated-state keys. Deletes the control stream, the
-- membership hashes and the extra keys; keeps the sequence and incarnation
-- counters so they stay monotonic. Every node then finds itself fenced and
-- rejoins, re-announcing its live state. Returns the number of deleted keys.
local n = 0
for i = 1, #KEYS do
  if i == 1 or i >= 4 then
    n = n + redis.call('DEL', KEYS[i])
  end
end
return n
