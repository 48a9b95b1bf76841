-- wrk script of the server benchmark (Benchmarks/server/run.sh): cycles through the click URLs that
-- `linktrack filter` wrote (one path and query per line of the file given after `--`), with the
-- redirect domain's Host header, and prints wrk's totals as one JSON line (LTJSON ...) at the end.
--
--   wrk -t2 -c64 -d30s --latency -s clicks.lua http://127.0.0.1:PORT -- paths.txt
--
-- LT_BENCH_RATE=R (requests/s, all connections together) with LT_BENCH_CONNECTIONS=C turns it into
-- a rate-limited load: each connection waits a random time (exponential, mean THINK ms) after each
-- response before its next request, so the connections send about R requests/s in all, in Poisson-like
-- bursts rather than in lockstep. THINK is C / R seconds, less the time a request takes
-- (LT_BENCH_THINK_MS overrides it; run.sh calibrates it with a short probe). wrk takes whole
-- milliseconds, so each wait is rounded up or down at random in proportion, which keeps the mean.
-- Without LT_BENCH_RATE there is no delay() at all (wrk then sends as fast as it reads).

local host = os.getenv("LT_BENCH_HOST") or "links.example.com"
-- A browser's User-Agent by default; LT_BENCH_USER_AGENT="" sends none (a diagnostic: the server's
-- link-scanner rule is then skipped, see Benchmarks/README.md).
local user_agent = os.getenv("LT_BENCH_USER_AGENT") or
   "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
local thread_count = 0

function setup(thread)
   thread:set("thread_index", thread_count)
   thread_count = thread_count + 1
end

local requests = {}
local n, i = 0, 0

function init(args)
   local file = args[1] or error("clicks.lua: give the paths file after --")
   for line in io.lines(file) do
      if #line > 0 then
         n = n + 1
         local headers = {["Host"] = host, ["Accept"] = "text/html,application/xhtml+xml"}
         if #user_agent > 0 then headers["User-Agent"] = user_agent end
         requests[n] = wrk.format("GET", line, headers)
      end
   end
   if n == 0 then error("clicks.lua: no paths in " .. file) end
   -- Threads start far apart in the list, so that they do not click the same links at the same time.
   i = math.floor((thread_index or 0) * n / 2) % n
   math.randomseed(os.time() + (thread_index or 0) * 7919)
end

function request()
   i = i + 1
   if i > n then i = 1 end
   return requests[i]
end

local rate = tonumber(os.getenv("LT_BENCH_RATE") or "")
if rate then
   local connections = tonumber(os.getenv("LT_BENCH_CONNECTIONS") or "64")
   local think = tonumber(os.getenv("LT_BENCH_THINK_MS") or "") or (connections / rate * 1000)
   function delay()
      local d = -think * math.log(1 - math.random())
      local whole = math.floor(d)
      if math.random() < d - whole then whole = whole + 1 end
      return whole
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'LTJSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
      '"latency_us": {"mean": %.1f, "stdev": %.1f, "max": %d, "p50": %d, "p75": %d, "p90": %d, "p99": %d, "p999": %d}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.mean, latency.stdev, latency.max,
      latency:percentile(50), latency:percentile(75), latency:percentile(90),
      latency:percentile(99), latency:percentile(99.9)))
end
