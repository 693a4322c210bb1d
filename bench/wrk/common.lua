-- Shared by every script: print wrk's summary as one JSON line (marker WRKJSON) for bench/loadgen.py.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "errors": {"connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d}, "latency_us": {"mean": %.1f, "max": %d, "p50": %d, "p90": %d, "p99": %d}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end

wrk.headers["Authorization"] = "Bearer sk_test_kasse_sandbox"

-- Each wrk thread gets a number, so generated keys are unique across threads.
local thread_count = 0
function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
end

-- A new Idempotency-Key per request, unique across threads and (with the script's NONCE) runs, as SDKs send.
local counter = 0
function idempotency_key()
  counter = counter + 1
  return (nonce or "run") .. "-" .. tid .. "-" .. counter
end
