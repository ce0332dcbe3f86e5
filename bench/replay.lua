-- wrk script for bench/callback.py: replays pre-signed WeChat pushes (one per line: "<path?query>\t<body>"),
-- each once and in order, for wrk's duration (the bench writes more than can be sent in that time).
-- Usage: wrk -t1 -c32 -d8s --timeout 10s -s bench/replay.lua http://127.0.0.1:PORT -- requests.tsv
-- Should the list run out, the last push is sent again (a WeChat retry, answered from its stored reply).
-- done() prints one JSON line: counts, latency percentiles, and how many of the listed pushes were sent.

local requests, total, sent, bad = {}, 0, 0, 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local headers = { ["Content-Type"] = "text/xml" }
  for line in io.lines(args[1]) do
    local path, body = line:match("^([^\t]+)\t(.*)$")
    if path then
      total = total + 1
      requests[total] = wrk.format("POST", path, headers, body)
    end
  end
  if total == 0 then
    error("no requests in " .. args[1])
  end
end

function request()
  if sent < total then
    sent = sent + 1
    wrk.thread:set("sent", sent)
  end
  return requests[sent]
end

function response(status, headers, body)
  if status ~= 200 or not body:find("<Encrypt>", 1, true) then
    bad = bad + 1
    wrk.thread:set("bad", bad)
  end
end

function done(summary, latency, _requests)
  local sent_all, bad_all = 0, 0
  for _, thread in ipairs(threads) do
    sent_all = sent_all + (thread:get("sent") or 0)
    bad_all = bad_all + (thread:get("bad") or 0)
  end
  io.write(string.format(
    '{"requests": %d, "seconds": %.6f, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, ' ..
    '"sent": %d, "bad": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, sent_all, bad_all,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
