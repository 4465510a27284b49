--[[
  Releases an object lock only if the given run still holds it.

  Input:
    KEYS[1]   the lock   dvx:lock:<type>/<id>
    ARGV[1]   the run id expected to hold it

  Output:
    1   released
    0   held by another run or not held at all; nothing changed
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
