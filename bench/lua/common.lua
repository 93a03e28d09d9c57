-- Shared by the bench/lua scripts (wrk 4). Every request goes through request(), also for
-- healthz, so wrk does the same work per request whatever the endpoint; where possible the
-- requests are formatted once, in init. done() prints the one RESULT line bench/lib.sh reads.
local n = 0
function setup(thread) thread:set("tid", n); n = n + 1 end
reqs, i = {}, 0
-- lines(path, f): f(line) for this thread's share of the non-empty lines of a file
function lines(path, f)
  local k, threads = 0, tonumber(os.getenv("THREADS"))
  for line in io.lines(path) do
    if line ~= "" then
      if k % threads == tid then f(line) end
      k = k + 1
    end
  end
end
function headers()
  return { ["Authorization"] = "Bearer " .. (os.getenv("BEARER") or ""), ["Content-Type"] = "application/json" }
end
function request() i = i % #reqs + 1; return reqs[i] end
function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  local bad = e.status + e.connect + e.read + e.write + e.timeout
  io.write(string.format("RESULT rps=%.0f p50_ms=%.3f p99_ms=%.3f errors=%d\n",
    (summary.requests - bad) / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000, bad))
end
