--[[
  Deletes one finished run that ended before a cutoff: its hash, transition log, step executions and pending job ids,
  and its entry in every index. The caller read the run's kind, status and object first (they name the index keys);
  if the run moved meanwhile, runs again or ended after the cutoff, nothing is deleted.

  Input:
    KEYS[1]   the run's hash                                dvx:run:<id>
    KEYS[2]   the run's transition log                      dvx:run:<id>:log
    KEYS[3]   the run's step executions                     dvx:run:<id>:steps
    KEYS[4]   the job ids the run waits for                 dvx:run:<id>:pending
    KEYS[5]   every run, by creation time                   dvx:runs
    KEYS[6]   ids of runs that have not ended               dvx:runs:active
    KEYS[7]   the object's runs                             dvx:runs:object:<type>/<id>
    KEYS[8]   runs of the kind the caller read              dvx:runs:kind:<kind>
    KEYS[9]   runs with the status the caller read          dvx:runs:status:<status>
    KEYS[10]  runs of that kind with that status            dvx:runs:status:<status>:kind:<kind>

    ARGV[1]   the run id
    ARGV[2]   the kind the caller read
    ARGV[3]   the status the caller read (never 'running')
    ARGV[4]   the cutoff, an ISO 8601 UTC time as Date.toISOString writes it: a run that ended at or after it stays

  Output:
    1    deleted
    0    the run's kind or status is not what the caller read, it is running, or it ended at or after the cutoff
    -1   the run's hash is gone; its index entries (if any were left) are removed
]]
local rcall = redis.call
local runId = ARGV[1]

local fields = rcall('HMGET', KEYS[1], 'kind', 'status', 'endedAt', 'updatedAt')
if not fields[2] then
  rcall('ZREM', KEYS[5], runId)
  rcall('ZREM', KEYS[9], runId)
  rcall('ZREM', KEYS[10], runId)
  return -1
end
if fields[1] ~= ARGV[2] or fields[2] ~= ARGV[3] or fields[2] == 'running' then return 0 end
-- Times are compared as text: Date.toISOString always writes the same 24 characters, so text order is time order.
local ended = fields[3] or fields[4]
if not ended or ended >= ARGV[4] then return 0 end

rcall('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
rcall('ZREM', KEYS[5], runId)
rcall('SREM', KEYS[6], runId)
rcall('ZREM', KEYS[7], runId)
rcall('ZREM', KEYS[8], runId)
rcall('ZREM', KEYS[9], runId)
rcall('ZREM', KEYS[10], runId)
return 1
