-- wrk script for the routing benchmarks (bench/routing.py): bench/lua/stats.lua's figures (its
-- BENCH_JSON line) plus a different path on every request. The paths come from the file named by
-- BENCH_ROUTE_PATHS, one "base" per line, each used in turn (every thread starts elsewhere in the
-- list); a per-request number is appended to the base, so no two requests send the same path and
-- HAProxy's pattern cache (tune.pattern.cache-size) cannot answer a map_reg lookup from memory.
-- bench/routing.py sets BENCH_STATS_LUA (the path of stats.lua) and BENCH_ROUTE_PATHS:
--   BENCH_STATS_LUA=bench/lua/stats.lua BENCH_ROUTE_PATHS=paths.txt \
--   wrk -t2 -c50 -d8s --latency -s bench/lua/routes.lua -H 'Host: application-02.6play.fr' URL

dofile(os.getenv("BENCH_STATS_LUA"))

local bases = {}
for line in io.lines(os.getenv("BENCH_ROUTE_PATHS")) do
   if line ~= "" then
      table.insert(bases, line)
   end
end

local stats_setup = setup
local threads_started = 0

function setup(thread)
   stats_setup(thread)
   thread:set("id", threads_started)
   threads_started = threads_started + 1
end

local index = nil
local counter = nil

function request()
   if index == nil then
      local thread_id = id or 0
      index = (thread_id * 7919) % #bases
      counter = thread_id * 1000000000
   end
   index = index % #bases + 1
   counter = counter + 1
   return wrk.format(nil, bases[index] .. counter)
end
