-- wrk script for bench/run.py: at the end prints one line "BENCH_JSON {...}" with wrk's exact
-- figures (latencies in microseconds, socket errors by kind) and, when the environment variable
-- BENCH_COUNT_STATUS is "1", the number of responses per HTTP status (wrk itself only prints
-- "Non-2xx or 3xx responses" for statuses >= 400). Counting calls response() for every answer,
-- which costs wrk CPU, so the throughput benchmark leaves it off.
--   wrk -t2 -c50 -d10s --latency -s bench/lua/stats.lua -H 'Host: application-01.6play.fr' URL

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

if os.getenv("BENCH_COUNT_STATUS") == "1" then
   function init(args)
      statuses = {}
   end

   function response(status, headers, body)
      statuses[status] = (statuses[status] or 0) + 1
   end
end

local function status_totals()
   local totals = {}
   for _, thread in ipairs(threads) do
      local counted = thread:get("statuses")
      if counted then
         for status, count in pairs(counted) do
            totals[status] = (totals[status] or 0) + count
         end
      end
   end
   return totals
end

local function json_object(pairs_list)
   local parts = {}
   for _, kv in ipairs(pairs_list) do
      table.insert(parts, string.format("%q:%s", kv[1], kv[2]))
   end
   return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
   local statuses = {}
   for status, count in pairs(status_totals()) do
      table.insert(statuses, {tostring(status), string.format("%d", count)})
   end
   local errors = summary.errors
   local line = json_object({
      {"requests", string.format("%d", summary.requests)},
      {"duration_us", string.format("%d", summary.duration)},
      {"bytes", string.format("%d", summary.bytes)},
      {"errors", json_object({
         {"connect", string.format("%d", errors.connect)},
         {"read", string.format("%d", errors.read)},
         {"write", string.format("%d", errors.write)},
         {"timeout", string.format("%d", errors.timeout)},
         {"status", string.format("%d", errors.status)},
      })},
      {"latency_us", json_object({
         {"mean", string.format("%.1f", latency.mean)},
         {"stdev", string.format("%.1f", latency.stdev)},
         {"max", string.format("%d", latency.max)},
         {"p50", string.format("%d", latency:percentile(50))},
         {"p90", string.format("%d", latency:percentile(90))},
         {"p99", string.format("%d", latency:percentile(99))},
      })},
      {"statuses", json_object(statuses)},
      {"status_counted", os.getenv("BENCH_COUNT_STATUS") == "1" and "true" or "false"},
   })
   io.write("BENCH_JSON ", line, "\n")
end
