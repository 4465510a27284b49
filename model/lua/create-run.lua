--[[
  Creates a run: takes its object locks, writes its hash, its first log line, its pending job ids and every index
  it belongs to, all at once. Nothing is written when a lock is held or the run exists.

  Input:
    KEYS[1]   the run's hash                          dvx:run:<id>
    KEYS[2]   every run, by creation time             dvx:runs
    KEYS[3]   ids of runs that have not ended         dvx:runs:active
    KEYS[4]   the object's runs, by creation time     dvx:runs:object:<type>/<id>
    KEYS[5]   the run's transition log                dvx:run:<id>:log
    KEYS[6]   the job ids the run waits for           dvx:run:<id>:pending
    KEYS[7]   runs of this kind                       dvx:runs:kind:<kind>
    KEYS[8]   runs with this status                   dvx:runs:status:<status>
    KEYS[9]   runs of this kind with this status      dvx:runs:status:<status>:kind:<kind>
    KEYS[10..] one lock key per object the run locks  dvx:lock:<type>/<id> (none or more)

    ARGV[1]   the run id
    ARGV[2]   its creation time in ms (the score in every index)
    ARGV[3]   the first line of its transition log (JSON)
    ARGV[4]   its status; only a 'running' run is active and takes its locks
    ARGV[5]   P, the number of pending job ids that follow
    ARGV[6 .. 5+P]       the pending job ids
    ARGV[6+P ..]         the run's hash fields, as field, value, field, value... to the end

  Output:
    {'OK'}                             created
    {'LOCKED', <lock key>, <run id>}   a lock is held by that run; nothing written
    {'EXISTS'}                         a run with this id exists; nothing written
]]
local rcall = redis.call
local runId = ARGV[1]

for i = 10, #KEYS do
  local holder = rcall('GET', KEYS[i])
  if holder then return {'LOCKED', KEYS[i], holder} end
end
if rcall('EXISTS', KEYS[1]) == 1 then return {'EXISTS'} end

local pendingCount = tonumber(ARGV[5])
local fieldsFrom = 6 + pendingCount
rcall('HSET', KEYS[1], 'layout', '2', unpack(ARGV, fieldsFrom))
if pendingCount > 0 then rcall('SADD', KEYS[6], unpack(ARGV, 6, fieldsFrom - 1)) end
rcall('RPUSH', KEYS[5], ARGV[3])
for _, index in ipairs({KEYS[2], KEYS[4], KEYS[7], KEYS[8], KEYS[9]}) do rcall('ZADD', index, ARGV[2], runId) end
if ARGV[4] == 'running' then
  rcall('SADD', KEYS[3], runId)
  for i = 10, #KEYS do rcall('SET', KEYS[i], runId) end
end
return {'OK'}
