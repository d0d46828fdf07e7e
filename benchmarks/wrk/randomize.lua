-- Each request randomizes the next enrolled subject (R00001, R00002, ...) with the strata
-- the seed recorded (site SITE1, never smoked): every request takes a slot of one stratum,
-- the most contended case. PUSTULA_BENCH_THINK_MS as in save_visit.lua.
local counter = tonumber(os.getenv("PUSTULA_BENCH_FIRST") or "0")
local think = tonumber(os.getenv("PUSTULA_BENCH_THINK_MS") or "0")
math.randomseed(20261205)

delay = function()
  if think <= 0 then return 0 end
  return math.floor(think * (0.5 + math.random()))
end
local token = os.getenv("PUSTULA_BENCH_TOKEN")
local body = '{"strata": {"site": "SITE1", "smoking": "never"}, "randomized_on": "2024-03-02"}'

request = function()
  counter = counter + 1
  local path = string.format("/api/v1/subjects/R%05d/randomization", counter)
  return wrk.format("POST", path, {["Authorization"] = "Bearer " .. token,
                                   ["Content-Type"] = "application/json"}, body)
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT randomizations requests=%d seconds=%.2f rps=%.1f p50=%.1f p95=%.1f p99=%.1f errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
