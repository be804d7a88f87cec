-- cloudshift.migration: shadow copies of an app's requests to its cloud, inside HAProxy.
--
-- http-request lua.cloudshift_shadow <app> <target-url> <host|-> <timeout-ms> <max-inflight>
--
-- The frontend runs the action only for the app's requests whose method and path the app model
-- allows (deny wins); the share comes from the variable txn.cloudshift_shadow, read by the frontend
-- from the shadow map: "<percent>@<deadline>" (deadline: unix seconds after which the copies stop by
-- themselves, 0 for none), so a replicate.yml that dies stops copying within its lease.
--
-- Sampling is systematic from a random start (an accumulator per app), so a share of 10% copies one
-- allowed request in ten, evenly spread, rather than 10% on average.
-- The copy is sent by a task (core.register_task) through core.httpclient, after the user's
-- request has moved on: the user is never delayed or failed by it, and the shadow's answer is
-- discarded. Beyond max-inflight copies waiting for the shadow, new ones are dropped and counted.
-- HAProxy 2.6's httpclient takes no per-request timeout: a copy answered after <timeout-ms> counts
-- as failed (late), and holds its in-flight slot until the httpclient gives up.
--
-- Counters (per worker: a reload starts them again) on the runtime API: `cloudshift shadow`.

local counters = {}
local order = {}

-- Hop-by-hop headers and those the httpclient sets itself.
local skipped_headers = {
  ["connection"] = true, ["keep-alive"] = true, ["proxy-connection"] = true, ["transfer-encoding"] = true,
  ["te"] = true, ["trailer"] = true, ["upgrade"] = true, ["content-length"] = true, ["host"] = true,
  ["expect"] = true,
}

local senders = {
  GET = function(client, request) return client:get(request) end,
  HEAD = function(client, request) return client:head(request) end,
  POST = function(client, request) return client:post(request) end,
  PUT = function(client, request) return client:put(request) end,
  DELETE = function(client, request) return client:delete(request) end,
}

local function counters_of(app)
  local found = counters[app]
  if found == nil then
    found = {sampled = 0, sent = 0, dropped = 0, failed = 0, late = 0, inflight = 0,
             s2xx = 0, s3xx = 0, s4xx = 0, s5xx = 0, skipped = 0, accumulator = math.random() * 100}
    counters[app] = found
    order[#order + 1] = app
  end
  return found
end

local function now_ms()
  local now = core.now()
  return now.sec * 1000 + now.usec // 1000
end

local function copy_headers(txn, host)
  local copied = {}
  for name, values in pairs(txn.http:req_get_headers()) do
    if not skipped_headers[name] then
      local list = {}
      for index = 0, #values do
        if values[index] ~= nil then
          list[#list + 1] = values[index]
        end
      end
      copied[name] = list
    end
  end
  copied["host"] = {host}
  return copied
end

local function send_copy(stats, sender, request, timeout_ms)
  local started = now_ms()
  local ok, response = pcall(sender, core.httpclient(), request)
  local elapsed = now_ms() - started
  stats.inflight = stats.inflight - 1
  local status = ok and response ~= nil and response.status or nil
  if status == nil or status == 0 then
    stats.failed = stats.failed + 1
    return
  end
  stats.sent = stats.sent + 1
  local class = status // 100
  if class == 2 then stats.s2xx = stats.s2xx + 1
  elseif class == 3 then stats.s3xx = stats.s3xx + 1
  elseif class == 4 then stats.s4xx = stats.s4xx + 1
  else stats.s5xx = stats.s5xx + 1 end
  if elapsed > timeout_ms then
    stats.late = stats.late + 1
  end
end

core.register_action("cloudshift_shadow", {"http-req"}, function(txn, app, target, host, timeout, bound)
  local setting = txn:get_var("txn.cloudshift_shadow")
  if setting == nil then
    return
  end
  local percent, deadline = string.match(setting, "^%s*(%d+)@?(%d*)")
  percent = tonumber(percent)
  deadline = tonumber(deadline)
  if percent == nil or percent <= 0 then
    return
  end
  if deadline ~= nil and deadline > 0 and core.now().sec > deadline then
    return
  end
  -- Systematic sampling from a random start: every request adds the share to the app's accumulator and
  -- is copied each time it passes 100, so 10% copies exactly one allowed request in ten, evenly spread.
  local stats = counters_of(app)
  stats.accumulator = stats.accumulator + percent
  if stats.accumulator < 100 then
    return
  end
  stats.accumulator = stats.accumulator - 100
  stats.sampled = stats.sampled + 1
  local method = txn.sf:method()
  local sender = senders[method]
  if sender == nil then
    stats.skipped = stats.skipped + 1
    return
  end
  if stats.inflight >= tonumber(bound) then
    stats.dropped = stats.dropped + 1
    return
  end
  local request = {
    url = target .. txn.sf:pathq(),
    headers = copy_headers(txn, host ~= "-" and host or (txn.sf:req_hdr("host") or "")),
  }
  if method ~= "GET" and method ~= "HEAD" then
    request.body = txn.sf:req_body() or ""
  end
  stats.inflight = stats.inflight + 1
  local timeout_ms = tonumber(timeout)
  core.register_task(function() send_copy(stats, sender, request, timeout_ms) end)
end, 5)

core.register_cli({"cloudshift", "shadow"}, "cloudshift shadow : show the shadow copy counters of every app",
  function(applet)
    local lines = {"# app sampled sent dropped failed late inflight 2xx 3xx 4xx 5xx skipped"}
    for _, app in ipairs(order) do
      local s = counters[app]
      lines[#lines + 1] = string.format("%s %d %d %d %d %d %d %d %d %d %d %d", app, s.sampled, s.sent, s.dropped,
        s.failed, s.late, s.inflight, s.s2xx, s.s3xx, s.s4xx, s.s5xx, s.skipped)
    end
    applet:send(table.concat(lines, "\n") .. "\n")
  end)

core.register_init(function()
  math.randomseed(core.now().usec + core.now().sec)
end)
