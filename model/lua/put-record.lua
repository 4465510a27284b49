--[[
  Writes a JSON record of a record store (environments, VDBs, dSources...) with a compare-and-set on its revision.

  Input:
    KEYS[1]   the record                            dvx:<kind>:<id>
    ARGV[1]   the revision the caller read; '0' creates the record and refuses one that exists
    ARGV[2]   the record to write (JSON with a numeric 'rev' field)

  Output:
    1    written
    0    the stored revision is not ARGV[1]; nothing written
    -1   creating, and the record exists; nothing written
    -2   updating, and the record is gone; nothing written
]]
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '0' then
  if current then return -1 end
else
  if not current then return -2 end
  if cjson.decode(current).rev ~= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
