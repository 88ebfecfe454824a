-- POST a token request with the caller's bearer (BENCH_BEARER); at the end print one machine-readable
-- line: requests, errors, and latency percentiles in microseconds.
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_BEARER") or "")

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d p50=%d p99=%d p999=%d max=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
end
