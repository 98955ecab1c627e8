-- wrk script: POST /api/v1/posts with a unique external_id on every request.
--
-- Environment: STEWARD_TOKEN (bearer token, required), BENCH_RUN (a run tag that keeps
-- ids unique across runs on one database), BENCH_SENSITIVE_EVERY (every Nth post is
-- sensitive and opens a case in its own thread; default 10, i.e. 10%).
--
-- Each wrk thread counts the requests it sent and the 2xx / other answers it got; done()
-- prints them as `BENCH sent=… ok=… non2xx=…` for run.sh to check against the database.

local token = os.getenv("STEWARD_TOKEN") or error("set STEWARD_TOKEN")
local run = os.getenv("BENCH_RUN") or tostring(os.time())
local every = tonumber(os.getenv("BENCH_SENSITIVE_EVERY") or "10")

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("tid", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

-- ~1 KB bodies: a sensitive text for the triage to escalate, and two ordinary ones.
-- The filler stays clear of every topic's words (even weak ones such as "team" or
-- "remote"), so that exactly 1 post in BENCH_SENSITIVE_EVERY is escalated.
local filler = " Some more context: we run the latest release on our own build server, upgraded"
   .. " last week from the previous minor version, and nothing else changed since then."
local function pad(s)
   while #s < 900 do s = s .. filler end
   return s
end
local sensitive = {
   {"Does the desktop app phone home?", pad("I noticed with OpenSnitch that the app phones home with usage data without my consent. How do I disable telemetry completely? This is a privacy violation in my opinion.")},
   {"Security vulnerability: remote code execution in the upload handler", pad("I found a security vulnerability that allows remote code execution through a crafted file upload. How do I report it privately before I request a CVE?")},
   {"Can we relicense the AGPL server code?", pad("We want to ship a fork under a proprietary license. Is that a GPL violation, and do we need a commercial license to avoid the AGPL copyleft obligations?")},
}
local ordinary = {
   {"Dark theme button misaligned", pad("After the last update the dark theme toggle on the settings page sits two pixels lower than the other buttons. Screenshot attached.")},
   {"How to configure websockets behind nginx?", pad("I run the server behind nginx and the websocket connection drops every minute. Which proxy settings do I need for the upgrade headers?")},
}

function init(args)
   sent, ok, non2xx, sensitive_sent = 0, 0, 0, 0
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
   local n = sent
   sent = sent + 1
   local eid = string.format("%s-%d-%d", run, tid, n)
   local text
   if every > 0 and n % every == 0 then
      sensitive_sent = sensitive_sent + 1
      text = sensitive[math.floor(n / every) % #sensitive + 1]
   else
      text = ordinary[n % #ordinary + 1]
   end
   local body = string.format(
      '{"source":"bench","external_id":"%s","url":"https://forum.example.org/t/%s",'
         .. '"author":"user%d","title":"%s","body":"%s","thread":"%s"}',
      eid, eid, n % 97, text[1], text[2], eid)
   return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
   if status >= 200 and status < 300 then
      ok = ok + 1
   else
      non2xx = non2xx + 1
      if non2xx <= 3 then io.stderr:write("non-2xx " .. status .. ": " .. body .. "\n") end
   end
end

-- Prints the same BENCH lines as health.lua's done(); run.sh parses both alike, so change
-- them together.
function done(summary, latency, requests)
   local s, o, b, sens = 0, 0, 0, 0
   for _, t in ipairs(threads) do
      s = s + t:get("sent")
      o = o + t:get("ok")
      b = b + t:get("non2xx")
      sens = sens + t:get("sensitive_sent")
   end
   io.write(string.format("BENCH sent=%d ok=%d non2xx=%d sensitive_sent=%d\n", s, o, b, sens))
   io.write(string.format("BENCH p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
      latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency.max / 1000))
   local e = summary.errors
   io.write(string.format("BENCH requests=%d duration_s=%.3f rps=%.1f errors_connect=%d errors_read=%d errors_write=%d errors_timeout=%d errors_status=%d\n",
      summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
      e.connect, e.read, e.write, e.timeout, e.status))
end
