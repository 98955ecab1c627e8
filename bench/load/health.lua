-- wrk script: the baseline, GET /api/v1/health (no write, no auth), reported like posts.lua.

-- Prints the same BENCH lines as posts.lua's done(); run.sh parses both alike, so change
-- them together.
function done(summary, latency, requests)
   io.write(string.format("BENCH p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
      latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency.max / 1000))
   local e = summary.errors
   io.write(string.format("BENCH requests=%d duration_s=%.3f rps=%.1f errors_connect=%d errors_read=%d errors_write=%d errors_timeout=%d errors_status=%d\n",
      summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
      e.connect, e.read, e.write, e.timeout, e.status))
end
