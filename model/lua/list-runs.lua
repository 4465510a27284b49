--[[
  One page of the runs in two indexes at once (an object's runs of a given kind and/or status), newest first. Every
  run index has the same score (creation time) for a run, so both list their common runs in the same order; the
  smaller index is walked and each of its runs is looked up in the other.

  Input:
    KEYS[1]   a run index (sorted set of run ids by creation time), e.g. dvx:runs:object:<type>/<id>
    KEYS[2]   another one, e.g. dvx:runs:status:<status>:kind:<kind>

    ARGV[1]   how many matching runs to skip (the page's offset)
    ARGV[2]   how many to return at most (the page's size)

  Output:
    the ids of the matching runs, newest first (ties by id, highest first, as ZREVRANGE orders them)
]]
local rcall = redis.call
local walked, other = KEYS[1], KEYS[2]
if rcall('ZCARD', other) < rcall('ZCARD', walked) then walked, other = other, walked end

local skip = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local found = {}
local batch = 200
local start = 0
while #found < limit do
  local ids = rcall('ZREVRANGE', walked, start, start + batch - 1)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    if rcall('ZSCORE', other, id) then
      if skip > 0 then
        skip = skip - 1
      else
        found[#found + 1] = id
        if #found >= limit then break end
      end
    end
  end
  start = start + batch
end
return found
