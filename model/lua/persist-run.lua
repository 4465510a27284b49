--[[
  Writes the next version of a run if nobody moved it since the caller read it (compare-and-set on its sequence
  number and status): its hash fields, a log line, its pending job ids, the step attempt whose result this
  transition applies (if any), its move between status indexes and, when it ends, the release of its locks.

  Input:
    KEYS[1]   the run's hash                                dvx:run:<id>
    KEYS[2]   the run's transition log                      dvx:run:<id>:log
    KEYS[3]   ids of runs that have not ended               dvx:runs:active
    KEYS[4]   the run's step executions                     dvx:run:<id>:steps
    KEYS[5]   the job ids the run waits for                 dvx:run:<id>:pending
    KEYS[6]   every run, by creation time (gives the score) dvx:runs
    KEYS[7]   runs with the status the caller read          dvx:runs:status:<from>
    KEYS[8]   runs of its kind with that status             dvx:runs:status:<from>:kind:<kind>
    KEYS[9]   runs with the new status                      dvx:runs:status:<to>
    KEYS[10]  runs of its kind with the new status          dvx:runs:status:<to>:kind:<kind>
    KEYS[11..] the run's lock keys                          dvx:lock:<type>/<id> (none or more)

    ARGV[1]   the sequence number the caller read
    ARGV[2]   the status the caller read
    ARGV[3]   the new status; anything but 'running' ends the run
    ARGV[4]   the run id
    ARGV[5]   the new line of the transition log (JSON)
    ARGV[6]   F, the number of finished step attempts that follow (0 or 1), each as four values:
                job id, step record (JSON, written only if the job has none yet), attempt number, attempt (JSON)
    then      P, the number of pending job ids, followed by the P job ids
    then      the run's hash fields to write, as field, value, field, value... to the end

  Output:
    1   written
    0   the run's sequence number or status is not what the caller read; nothing written
]]
local rcall = redis.call
local runId = ARGV[4]

local current = rcall('HMGET', KEYS[1], 'seq', 'status')
if current[1] ~= ARGV[1] or current[2] ~= ARGV[2] then return 0 end

local at = 6
local finishedCount = tonumber(ARGV[at])
at = at + 1
for _ = 1, finishedCount do
  local jobId = ARGV[at]
  rcall('HSETNX', KEYS[4], jobId, ARGV[at + 1])
  rcall('HSET', KEYS[4], jobId .. '#' .. ARGV[at + 2], ARGV[at + 3])
  at = at + 4
end

local pendingCount = tonumber(ARGV[at])
at = at + 1
rcall('DEL', KEYS[5])
if pendingCount > 0 then rcall('SADD', KEYS[5], unpack(ARGV, at, at + pendingCount - 1)) end
at = at + pendingCount

rcall('HSET', KEYS[1], 'layout', '2', unpack(ARGV, at))
rcall('RPUSH', KEYS[2], ARGV[5])

if ARGV[2] ~= ARGV[3] then
  rcall('ZREM', KEYS[7], runId)
  rcall('ZREM', KEYS[8], runId)
  local score = rcall('ZSCORE', KEYS[6], runId)
  if score then
    rcall('ZADD', KEYS[9], score, runId)
    rcall('ZADD', KEYS[10], score, runId)
  end
end

if ARGV[3] ~= 'running' then
  rcall('SREM', KEYS[3], runId)
  for i = 11, #KEYS do
    if rcall('GET', KEYS[i]) == runId then rcall('DEL', KEYS[i]) end
  end
end
return 1
