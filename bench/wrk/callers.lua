-- POST token requests as many distinct callers: one bearer JWT per line of the file named by
-- BENCH_CALLERS_FILE, taken round-robin (each wrk thread starts at its own offset), so the broker's
-- verified-token cache, grants and rate limiter see as many callers as a cluster's. At the end, print
-- the same machine-readable line as token.lua.
local tokens = {}
local file = assert(io.open(os.getenv("BENCH_CALLERS_FILE") or "", "r"), "BENCH_CALLERS_FILE unreadable")
for line in file:lines() do
  if #line > 0 then tokens[#tokens + 1] = line end
end
file:close()
assert(#tokens > 0, "no bearer tokens in BENCH_CALLERS_FILE")

-- one prepared request per caller, made in init() (wrk's host header is known only from then on):
-- wrk then sends them in turn without formatting each again
local requests = {}
function init(args)
  for i, token in ipairs(tokens) do
    requests[i] = wrk.format("POST", nil, { ["Authorization"] = "Bearer " .. token })
  end
end

local threads = 0
function setup(thread)
  thread:set("offset", threads * 499)
  threads = threads + 1
end

local next = nil
function request()
  if next == nil then next = (offset or 0) % #requests end
  next = next % #requests + 1
  return requests[next]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d p50=%d p99=%d p999=%d max=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
end
