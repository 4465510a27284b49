--[[
  Adds one run written before the kind and status indexes existed to them (the run store does this once for every
  run, before its first listing). The caller read the run's kind and status first; if the run moved meanwhile,
  nothing is written and the caller reads it again, so a run is never left in the index of a status it has left.

  Input:
    KEYS[1]   the run's hash                                    dvx:run:<id>
    KEYS[2]   every run, by creation time (gives the score)     dvx:runs
    KEYS[3]   runs of the kind the caller read                  dvx:runs:kind:<kind>
    KEYS[4]   runs with the status the caller read              dvx:runs:status:<status>
    KEYS[5]   runs of that kind with that status                dvx:runs:status:<status>:kind:<kind>

    ARGV[1]   the run id
    ARGV[2]   the kind the caller read
    ARGV[3]   the status the caller read

  Output:
    1    indexed (or already was)
    0    the run's kind or status is not what the caller read; nothing written
    -1   the run is gone (no hash or not in every-run index); nothing written
]]
local rcall = redis.call
local runId = ARGV[1]

local fields = rcall('HMGET', KEYS[1], 'kind', 'status')
local score = rcall('ZSCORE', KEYS[2], runId)
if not fields[2] or not score then return -1 end
if fields[1] ~= ARGV[2] or fields[2] ~= ARGV[3] then return 0 end
rcall('ZADD', KEYS[3], score, runId)
rcall('ZADD', KEYS[4], score, runId)
rcall('ZADD', KEYS[5], score, runId)
return 1
