-- wrk script: every request asks for the next path of a list, so that a run never
-- asks the same thing twice.
--   wrk ... -s benchmarks/paths.lua http://host:port -- <file of paths> <offset> <threads>
-- Thread n starts at offset + n * (list length / threads); the caller gives each run
-- (warm-up, measurement) its own offset.

local started = 0
local paths = {}
local position = 1

function setup(thread)
  thread:set("thread_number", started)
  started = started + 1
end

function init(args)
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
  local offset = tonumber(args[2]) or 0
  local threads = tonumber(args[3]) or 1
  position = (offset + thread_number * math.floor(#paths / threads)) % #paths + 1
end

function request()
  local path = paths[position]
  position = position % #paths + 1
  return wrk.format("GET", path)
end
