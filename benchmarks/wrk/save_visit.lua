-- Each request records week 2 (PPPASI + PGA) for the next subject: every save is new.
-- A data-entry user thinks between saves: PUSTULA_BENCH_THINK_MS (mean, uniform from half to
-- one and a half times it; 0 sends the next save at once).
local counter = tonumber(os.getenv("PUSTULA_BENCH_FIRST") or "0")
local think = tonumber(os.getenv("PUSTULA_BENCH_THINK_MS") or "0")
math.randomseed(20261125)

delay = function()
  if think <= 0 then return 0 end
  return math.floor(think * (0.5 + math.random()))
end
local token = os.getenv("PUSTULA_BENCH_TOKEN")
-- the study's API (/api/v1/studies/{code}); the routes without a study by default
local api = os.getenv("PUSTULA_BENCH_API") or "/api/v1"
local body = '{"visit_code": "W2", "visit_date": "2024-03-15", "assessments": {' ..
  '"pppasi": {"right_palm_erythema": 2, "right_palm_pustules": 2, "right_palm_desquamation": 1, "right_palm_area_pct": 25,' ..
  '"left_palm_erythema": 1, "left_palm_pustules": 1, "left_palm_desquamation": 1, "left_palm_area_pct": 10,' ..
  '"right_sole_erythema": 2, "right_sole_pustules": 3, "right_sole_desquamation": 2, "right_sole_area_pct": 40,' ..
  '"left_sole_erythema": 1, "left_sole_pustules": 2, "left_sole_desquamation": 1, "left_sole_area_pct": 20},' ..
  '"pga": {"pga": 2}}}'

request = function()
  counter = counter + 1
  local path = string.format("%s/subjects/R%05d/visits", api, counter)
  return wrk.format("POST", path, {["Authorization"] = "Bearer " .. token,
                                   ["Content-Type"] = "application/json"}, body)
end

local statuses = {}
response = function(status)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT saves requests=%d seconds=%.2f rps=%.1f p50=%.1f p95=%.1f p99=%.1f errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
