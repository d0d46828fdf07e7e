-- Each request reads a random subject's page (the server-rendered timeline).
-- A reviewer pauses between pages: PUSTULA_BENCH_READ_THINK_MS (mean, uniform from half to
-- one and a half times it; 0 asks for the next page at once).
local token = os.getenv("PUSTULA_BENCH_TOKEN")
local subjects = tonumber(os.getenv("PUSTULA_BENCH_SUBJECTS"))
local think = tonumber(os.getenv("PUSTULA_BENCH_READ_THINK_MS") or "0")
math.randomseed(20261125)

delay = function()
  if think <= 0 then return 0 end
  return math.floor(think * (0.5 + math.random()))
end

request = function()
  local path = string.format("/subjects/R%05d", math.random(1, subjects))
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT reads requests=%d seconds=%.2f rps=%.1f p50=%.1f p95=%.1f p99=%.1f errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
