--[[
  A worker takes up a step job: if the run is running and waits for this job, records the step (once) and the
  start of this attempt. Whether the run waits for the job is an exact membership test on its set of pending job
  ids; a run written before that set existed (no 'layout' field in its hash) is read from its pending steps' JSON.

  Input:
    KEYS[1]   the run's hash                  dvx:run:<id>
    KEYS[2]   the run's step executions       dvx:run:<id>:steps
    KEYS[3]   the job ids the run waits for   dvx:run:<id>:pending

    ARGV[1]   the job id
    ARGV[2]   the step record (JSON), written only if the job has none yet
    ARGV[3]   the attempt number
    ARGV[4]   the attempt (JSON)
    ARGV[5]   the run's sequence number that started the job (part of its id)
    ARGV[6]   'run' to get the run's hash back, 'ack' for just 'OK'

  Output:
    the run's hash as field, value... (ARGV[6] = 'run') or 'OK' (ARGV[6] = 'ack')   recorded
    'AHEAD'   the run is running at an earlier sequence: the transition that started the job is not written yet
    nil       the run has ended, is gone or does not wait for this job (a leftover job); nothing written
]]
local rcall = redis.call
local jobId = ARGV[1]

local run = rcall('HMGET', KEYS[1], 'status', 'layout')

local function waitsFor()
  if run[2] == '2' then return rcall('SISMEMBER', KEYS[3], jobId) == 1 end
  local pending = cjson.decode(rcall('HGET', KEYS[1], 'pending') or '[]')
  for _, step in ipairs(pending) do
    if step.jobId == jobId then return true end
  end
  return false
end

if run[1] ~= 'running' then return false end
if not waitsFor() then
  if tonumber(rcall('HGET', KEYS[1], 'seq')) < tonumber(ARGV[5]) then return 'AHEAD' end
  return false
end
rcall('HSETNX', KEYS[2], jobId, ARGV[2])
rcall('HSET', KEYS[2], jobId .. '#' .. ARGV[3], ARGV[4])
if ARGV[6] == 'run' then return rcall('HGETALL', KEYS[1]) end
return 'OK'
