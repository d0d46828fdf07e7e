-- The baseline: GET /health, the same app and middleware with no database work.
-- Printed as "RESULT trivial ..." so the benchmark can set each route beside it.
request = function()
  return wrk.format("GET", "/health")
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT trivial requests=%d seconds=%.2f rps=%.1f p50=%.1f p95=%.1f p99=%.1f errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
