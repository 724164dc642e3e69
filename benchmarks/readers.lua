-- wrk script: many readers. Every request carries the next reader's session cookie
-- (and, given a file of paths, asks for the next path: a search with new words),
-- and the script counts the app's X-Page-Cache answers (hit or miss), which the
-- app sends when COPROD_PAGE_CACHE_HEADER=1.
--   wrk ... -s benchmarks/readers.lua http://host:port/path -- \
--       <file of Cookie header values> <file of paths or "-"> <offset> <threads> <user agent>
-- Thread n starts at offset + n * (list length / threads) in both lists; the caller
-- gives each run (warm-up, measurement) its own offset. At the end it prints one line
--   page-cache: <hits> <misses> <requests>
-- which benchmarks/http_bench.py reads.

local started = 0
local threads = {}
local cookies = {}
local paths = {}
local cookie_at = 1
local path_at = 1
local agent = "coprod-http-bench/1"
hits = 0
misses = 0
answered = 0

function setup(thread)
  thread:set("thread_number", started)
  started = started + 1
  table.insert(threads, thread)
end

local function lines(name)
  local found = {}
  for line in io.lines(name) do
    if line ~= "" then
      found[#found + 1] = line
    end
  end
  return found
end

function init(args)
  cookies = lines(args[1])
  if args[2] and args[2] ~= "-" then
    paths = lines(args[2])
  end
  local offset = tonumber(args[3]) or 0
  local count = tonumber(args[4]) or 1
  agent = args[5] or agent
  cookie_at = (offset + thread_number * math.floor(#cookies / count)) % #cookies + 1
  if #paths > 0 then
    path_at = (offset + thread_number * math.floor(#paths / count)) % #paths + 1
  end
end

function request()
  local cookie = cookies[cookie_at]
  cookie_at = cookie_at % #cookies + 1
  local path = nil
  if #paths > 0 then
    path = paths[path_at]
    path_at = path_at % #paths + 1
  end
  return wrk.format("GET", path, {["Cookie"] = cookie, ["User-Agent"] = agent})
end

function response(status, headers, body)
  answered = answered + 1
  local kept = headers["X-Page-Cache"] or headers["x-page-cache"]
  if kept == "hit" then
    hits = hits + 1
  elseif kept == "miss" then
    misses = misses + 1
  end
end

function done(summary, latency, requests)
  local h, m, n = 0, 0, 0
  for _, thread in ipairs(threads) do
    h = h + (thread:get("hits") or 0)
    m = m + (thread:get("misses") or 0)
    n = n + (thread:get("answered") or 0)
  end
  io.write(string.format("page-cache: %d %d %d\n", h, m, n))
end
