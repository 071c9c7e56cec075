-- srm-mock (tests/mock): every directive, fault flag and endpoint, driven with the curl command-line
-- tool through tests/lua/mocklib.lua, plus a quick load check.
local T = dofile("tests/lua/testlib.lua")
local M = dofile("tests/lua/mocklib.lua")
local json = require "srm.json"
local core = require "srm.core"

M.require_mock()
if os.execute("command -v curl >/dev/null") ~= true then
  print("SKIPPED: the curl command-line tool is not installed")
  os.exit(77)
end

local mock = M.start{}

-- A chat request body whose last user message is `content` (extra: more top-level members).
local function chat_body(content, extra)
  local req = {model = "test-model", messages = {
    {role = "system", content = "You are a judge."},
    {role = "user", content = content}}}
  for k, v in pairs(extra or {}) do req[k] = v end
  return json.encode(req)
end

local function chat(content, o)
  o = o or {}
  local body = o.raw or chat_body(content, o.extra)
  local r = (o.mock or mock).request{body = body, headers = o.headers, timeout = o.timeout,
                                     path = o.path}
  r.sent = body
  if r.status ~= 0 then r.json = json.decode(r.body) end
  return r
end

local function message(r)
  return r.json.choices[1].message
end

T.case("default reply: chat.completion shape, model echoed, usage from sizes", function()
  local r = chat("Rate this answer.")
  T.eq(r.status, 200, "status")
  T.eq(r.headers["content-type"], "application/json", "content type")
  local j = r.json
  T.truthy(j.id:match("^chatcmpl%-mock%-%d+$"), "id " .. j.id)
  T.eq(j.object, "chat.completion")
  T.eq(math.type(j.created), "integer")
  T.eq(j.model, "test-model")
  T.eq(#j.choices, 1)
  T.eq(j.choices[1].index, 0)
  T.eq(j.choices[1].finish_reason, "stop")
  T.eq(message(r).role, "assistant")
  T.eq(message(r).content, '{"score": 4, "reason": "ok"}')
  T.eq(message(r).tool_calls, nil)
  T.eq(j.usage.prompt_tokens, #r.sent // 4)
  T.eq(j.usage.completion_tokens, #'{"score": 4, "reason": "ok"}' // 4)
  T.eq(j.usage.total_tokens, j.usage.prompt_tokens + j.usage.completion_tokens)
end)

T.case("/chat/completions without /v1 is accepted too; a missing model reads 'mock'", function()
  local r = chat(nil, {path = "/chat/completions",
                       raw = '{"messages":[{"role":"user","content":"hi"}]}'})
  T.eq(r.status, 200)
  T.eq(r.json.model, "mock")
end)

T.case("reply= takes the rest of the block, commas and quotes included", function()
  local r = chat('Q [[mock:reply=yes, "really", {"a": 1}]] tail')
  T.eq(message(r).content, 'yes, "really", {"a": 1}')
  T.eq(r.json.usage.completion_tokens, #'yes, "really", {"a": 1}' // 4)
end)

T.case("directives are read from the last user message only", function()
  local body = json.encode{messages = {
    {role = "user", content = "[[mock:status=500]]"},
    {role = "assistant", content = "[[mock:status=500]]"},
    {role = "user", content = "[[mock:reply=last]]"}}}
  local r = chat(nil, {raw = body})
  T.eq(r.status, 200)
  T.eq(message(r).content, "last")
end)

T.case("content given as parts: text parts are joined and scanned", function()
  local body = json.encode{messages = {{role = "user", content = {
    {type = "text", text = "[[mock:reply="}, {type = "image_url", image_url = {url = "x"}},
    {type = "text", text = "parts]]"}}}}}
  local r = chat(nil, {raw = body})
  T.eq(message(r).content, "parts")
end)

T.case("JSON escapes in the prompt are decoded before directives are read", function()
  local r = chat(nil, {raw = '{"messages":[{"role":"user","content":'
    .. '"\\u005b[mock:reply=caf\\u00e9 \\ud83d\\ude00 \\ud800 tab\\tend]]"}]}'})
  T.eq(message(r).content, "caf\u{e9} \u{1f600} \u{fffd} tab\tend")
end)

T.case("reasoning= and finish_reason= are passed through", function()
  local r = chat("[[mock:finish_reason=length]][[mock:reasoning=think, then answer]]")
  T.eq(r.json.choices[1].finish_reason, "length")
  T.eq(message(r).reasoning_content, "think, then answer")
end)

T.case("tool_call=NAME:ARGS gives tool_calls, null content, finish_reason tool_calls", function()
  local r = chat('[[mock:tool_call=lookup:{"q": "x", "n": [1, 2]}]] [[mock:tool_call=done:{}]]',
                 {extra = {tools = {{type = "function", ["function"] = {name = "lookup"}}}}})
  T.eq(r.status, 200)
  local m = message(r)
  T.eq(m.content, json.null)
  T.eq(#m.tool_calls, 2)
  T.eq(m.tool_calls[1].type, "function")
  T.eq(m.tool_calls[1]["function"].name, "lookup")
  T.eq(m.tool_calls[1]["function"].arguments, '{"q": "x", "n": [1, 2]}')
  T.eq(m.tool_calls[2]["function"].name, "done")
  T.eq(m.tool_calls[2]["function"].arguments, "{}")
  T.truthy(m.tool_calls[1].id ~= m.tool_calls[2].id, "distinct tool call ids")
  T.eq(r.json.choices[1].finish_reason, "tool_calls")
  local r2 = chat("[[mock:tool_call=f:{}]][[mock:reply=and text]]")
  T.eq(message(r2).content, "and text")
end)

T.case("latency_ms=N delays the reply", function()
  local r = chat("[[mock:latency_ms=250]]")
  T.eq(r.status, 200)
  T.truthy(r.time >= 0.245, "took " .. r.time .. " s")
  T.truthy(r.time < 2, "took " .. r.time .. " s")
end)

T.case("status=500 and status=429,retry_after=1: error bodies and Retry-After", function()
  local r = chat("[[mock:status=500]]")
  T.eq(r.status, 500)
  T.eq(r.json.error.code, 500)
  T.eq(r.json.error.message, "mock status 500")
  T.eq(r.headers["retry-after"], nil)
  r = chat("[[mock:status=429,retry_after=1]]")
  T.eq(r.status, 429)
  T.eq(r.headers["retry-after"], "1")
  r = chat("[[mock:status=429]]")
  T.eq(r.status, 429)
  T.eq(r.headers["retry-after"], nil)
  r = chat("[[mock:status=503,retry_after=7,latency_ms=100]]")
  T.eq(r.status, 503)
  T.eq(r.headers["retry-after"], "7")
  T.truthy(r.time >= 0.095, "latency applies to errors too")
  r = chat("[[mock:status=200]]")
  T.eq(r.status, 200)
end)

T.case("reset closes the connection without a reply", function()
  local r = chat("[[mock:reset]]")
  T.eq(r.status, 0)
  T.truthy(r.exit == 56 or r.exit == 52, "curl exit " .. tostring(r.exit))
  T.eq(r.body, "")
end)

T.case("stall never answers; stall=MS closes after MS without a reply", function()
  local m = M.start{}
  local r = chat("[[mock:stall]]", {timeout = 0.3, mock = m})
  T.eq(r.status, 0)
  T.eq(r.exit, 28, "curl timed out")
  local s = m.stats()
  T.eq({s.stalls, s.in_flight}, {1, 1}, "a stalled request stays in flight")
  T.eq(m.stop(), "")
  r = chat("[[mock:stall=150]]", {timeout = 5})
  T.eq(r.status, 0)
  T.eq(r.exit, 52, "empty reply")
  T.truthy(r.time >= 0.145 and r.time < 3, "closed after " .. r.time .. " s")
end)

T.case("malformed: 200 with a body that is not JSON", function()
  local r = chat("[[mock:malformed]]")
  T.eq(r.status, 200)
  T.eq(r.exit, 0)
  T.eq(r.json, nil)
  T.truthy(r.body:find('^{"id":"chatcmpl%-mock%-'), "starts like a reply: " .. r.body)
  T.eq(tonumber(r.headers["content-length"]), #r.body)
end)

T.case("truncated: Content-Length larger than the body, then the connection closes", function()
  local r = chat("[[mock:truncated]]")
  T.eq(r.status, 200)
  T.eq(r.exit, 18, "curl: partial file")
  local declared = tonumber(r.headers["content-length"])
  T.truthy(declared and #r.body < declared and #r.body > 0, "got " .. #r.body .. " of "
    .. tostring(declared))
end)

T.case("oversized=BYTES pads the content (streamed, still valid JSON)", function()
  local r = chat("[[mock:oversized=3000000]]")
  T.eq(r.status, 200)
  T.eq(r.exit, 0)
  T.truthy(#r.body > 3000000 and #r.body < 3001000, "body " .. #r.body)
  local content = message(r).content
  T.eq(#content, 3000000)
  T.eq(content:sub(1, 28), '{"score": 4, "reason": "ok"}')
  T.truthy(content:sub(29):match("^ +$"), "padded with spaces")
  T.eq(r.json.usage.completion_tokens, 750000)
  local small = chat("[[mock:oversized=5000,reply=x]]")
  T.eq(#message(small).content, 5000)
end)

T.case("fail_first=N: the first N attempts of a prompt get 500, then it succeeds", function()
  local codes = {}
  for i = 1, 4 do codes[i] = chat("[[mock:fail_first=2]] prompt A").status end
  T.eq(codes, {500, 500, 200, 200})
  T.eq(chat("[[mock:fail_first=2]] prompt B").status, 500, "another prompt counts apart")
  T.eq(chat("[[mock:fail_first=2]] prompt A", {extra = {model = "other"}}).status, 500,
       "the model is part of the key")
  mock.reset_stats()
  T.eq(chat("[[mock:fail_first=2]] prompt A").status, 500, "reset-stats forgets attempts")
end)

T.case("echo returns the messages sent; echo=body the whole request", function()
  local r = chat("[[mock:echo]] héllo")
  local sent = json.decode(r.sent)
  T.eq(json.decode(message(r).content), sent.messages)
  r = chat("[[mock:echo=body]]", {extra = {temperature = 0.5, chat_template_kwargs =
                                           {enable_thinking = false}}})
  T.eq(message(r).content, r.sent)
end)

T.case("bad directives and malformed bodies get 400 and never crash the mock", function()
  local cases = {
    {"[[mock:bogus]]", "bad mock directive 'bogus'"},
    {"[[mock:status=abc]]", "bad mock directive 'status=abc'"},
    {"[[mock:status=700]]", "bad mock directive"},
    {"[[mock:latency_ms=-5]]", "bad mock directive"},
    {"[[mock:tool_call=noargs]]", "bad mock directive"},
    {"[[mock:reset=1]]", "bad mock directive"},
    {"[[mock:reply=never closed", "unterminated"},
  }
  for _, c in ipairs(cases) do
    local r = chat(c[1])
    T.eq(r.status, 400, c[1])
    T.truthy(r.json.error.message:find(c[2], 1, true), c[1] .. " -> " .. r.json.error.message)
  end
  local bodies = {
    "", "not json", "[1,2]", '{"messages":[]', '{"messages":[]} trailing',
    '{"model":"m"}', '{"messages":{}}', '{"messages":[1]}', '{"messages":[],}',
    '{"messages":[{"role":"user","content":"bad \\x escape"}]}',
    '{"messages":[{"role":"user","content":"ctrl \1 char"}]}',
    '{"messages":[{"role":"user","content":"\\ud83"}]}',
    '{"messages":[],"n":01}', '{"messages":[],"n":1.}', '{"messages":[],"n":-}',
    '{"messages":[],"t":tru}', '{"messages":[],"x":' .. string.rep("[", 100000) .. '}',
    '{"messages":[],"x":' .. string.rep("[", 100) .. string.rep("]", 100) .. '}',
    '{"messages":[{"role":"user","content":"unterminated}]}',
    "\255\254{}",
    '{"messages":[{"role":"user","content":"bad \255 byte"}]}',
    '{"messages":[{"role":"user","content":"overlong \192\175"}]}',
    '{"messages":[{"role":"user","content":"surrogate \237\160\128"}]}',
    '{"messages":[{"role":"user","content":"cut \226\130"}]}',
  }
  for i, b in ipairs(bodies) do
    local r = chat(nil, {raw = b})
    local want = (i == 18) and 200 or 400
    T.eq(r.status, want, "body " .. i .. ": " .. b:sub(1, 60))
  end
  T.eq(chat("still alive").status, 200)
  local r = chat("[[mock:echo=body]] \u{e9}\u{1f600}\u{10ffff}")
  T.eq(r.status, 200, "well-formed UTF-8 passes")
  T.eq(message(r).content, r.sent)
end)

T.case("other endpoints: healthz, models, stats; 404 and 405", function()
  T.eq(mock.request{path = "/healthz"}.body, '{"ok":true}')
  local models = json.decode(mock.request{path = "/v1/models"}.body)
  T.eq(models.data[1].id, "mock")
  T.eq(mock.request{path = "/nope"}.status, 404)
  T.eq(mock.request{path = "/v1/chat/completions"}.status, 405, "GET on the chat path")
  T.eq(mock.request{path = "/stats", method = "POST", body = "{}"}.status, 405)
  T.eq(mock.request{path = "/reset-stats"}.status, 405, "GET on reset-stats")
end)

T.case("stats: requests, by_status, bytes_in, tool requests, in_flight; reset-stats", function()
  mock.reset_stats()
  local s = mock.stats()
  T.eq({s.requests, s.in_flight, s.bytes_in, s.resets, next(s.by_status)}, {0, 0, 0, 0, nil})
  local a = chat("one")
  local b = chat("[[mock:status=502]]", {extra = {tools = {}}})
  chat("[[mock:reset]]")
  chat("[[mock:malformed]]")
  chat("[[mock:stall=50]]")
  chat("[[mock:truncated]]")
  mock.request{path = "/healthz"}
  s = mock.stats()
  T.eq(s.requests, 6)
  T.eq(s.by_status, {["200"] = 3, ["502"] = 1})
  T.eq({s.resets, s.malformed, s.stalls, s.truncated, s.tool_requests}, {1, 1, 1, 1, 1})
  T.eq(s.in_flight, 0)
  T.eq(s.peak_in_flight, 1)
  T.eq(s.bytes_in, #a.sent + #b.sent + #chat_body("[[mock:reset]]") + #chat_body(
    "[[mock:malformed]]") + #chat_body("[[mock:stall=50]]") + #chat_body("[[mock:truncated]]"))
end)

T.case("a client that gives up during the latency leaves nothing in flight", function()
  mock.reset_stats()
  local r = chat("[[mock:latency_ms=300]]", {timeout = 0.1})
  T.eq(r.exit, 28)
  T.eq(mock.stats().in_flight, 1, "still waiting")
  os.execute("sleep 0.4")
  local s = mock.stats()
  T.eq(s.in_flight, 0)
  T.eq(s.requests, 1)
end)

T.case("--require-key: 401 without the right Bearer key; the key is never printed", function()
  local key = "sk-mock-secret-4242"
  local m = M.start{require_key = key}
  T.eq(chat("x", {mock = m}).status, 401)
  T.eq(chat("x", {mock = m, headers = {"Authorization: Bearer wrong"}}).status, 401)
  T.eq(chat("x", {mock = m, headers = {"Authorization: " .. key}}).status, 401)
  local ok = chat("x", {mock = m, headers = {"Authorization: Bearer " .. key}})
  T.eq(ok.status, 200)
  T.eq(m.request{path = "/healthz"}.status, 200, "healthz needs no key")
  T.eq(m.stats().by_status, {["200"] = 1, ["401"] = 3})
  local log = m.stop()
  T.eq(log, "")
  T.eq(io.open(m.dir .. "/stdout"):read("a"), "", "nothing on stdout")
end)

T.case("--reply, --reply-bytes, --latency-ms, --model", function()
  local m = M.start{reply = "plain text", reply_bytes = 1000, latency_ms = 120, model = "zz"}
  local r = chat(nil, {mock = m, raw = '{"messages":[{"role":"user","content":"q"}]}'})
  T.eq(r.status, 200)
  T.eq(#message(r).content, 1000)
  T.eq(message(r).content:sub(1, 10), "plain text")
  T.eq(r.json.model, "zz")
  T.truthy(r.time >= 0.115, "global latency: " .. r.time)
  r = chat("[[mock:latency_ms=0,reply=fast]]", {mock = m})
  T.eq(message(r).content:sub(1, 4), "fast")
  T.truthy(r.time < 0.1, "directive overrides the global latency: " .. r.time)
  T.eq(m.stop(), "")
end)

-- The mock's fault draw for request k (0-based) under a seed, replayed in Lua.
local function splitmix64(x)
  x = x + 0x9e3779b97f4a7c15
  x = (x ~ (x >> 30)) * 0xbf58476d1ce4e5b9
  x = (x ~ (x >> 27)) * 0x94d049bb133111eb
  return x ~ (x >> 31)
end

local function expected_fault(seed, k, rates)
  local u = (splitmix64(seed * 0x9e3779b97f4a7c15 + k) >> 11) * 2.0 ^ -53
  local names = {"500", "429", "reset", "stall", "malformed", "truncated"}
  for i, name in ipairs(names) do
    u = u - (rates[i] or 0)
    if u < 0 then return name end
  end
  return "ok"
end

-- Runs n chat requests one after another through one curl process (Connection: close, so curl
-- never silently re-sends on a reused connection); returns "status exitcode" lines.
local function sequential(m, n, content)
  local cfg = {}
  local body = chat_body(content or "q"):gsub('"', '\\"')
  for i = 1, n do
    if i > 1 then cfg[#cfg + 1] = "next" end
    cfg[#cfg + 1] = 'url = "' .. m.url .. '/chat/completions"'
    cfg[#cfg + 1] = 'data = "' .. body .. '"'
    cfg[#cfg + 1] = 'header = "Connection: close"'
    cfg[#cfg + 1] = 'output = "/dev/null"'
    cfg[#cfg + 1] = 'write-out = "%{http_code} %{exitcode} %{size_download}\\n"'
    cfg[#cfg + 1] = 'max-time = 5'
  end
  local path = m.dir .. "/seq.cfg"
  local f = assert(io.open(path, "w"))
  f:write(table.concat(cfg, "\n"), "\n")
  f:close()
  local p = assert(io.popen("curl -s -K " .. M.quote(path) .. " 2>/dev/null"))
  local lines = {}
  for line in p:lines() do lines[#lines + 1] = line end
  p:close()
  return lines
end

T.case("fault flags: each request's fate is the seeded draw, exactly", function()
  local rates = {0.2, 0.1, 0.05, 0.05, 0.05, 0.05}
  local seed = 7
  local m = M.start{fail_rate = 0.2, rate_429 = 0.1, reset_rate = 0.05, stall_rate = 0.05,
                    malformed_rate = 0.05, truncated_rate = 0.05, seed = seed, stall_ms = 20,
                    retry_after = 2}
  local n = 120
  local lines = sequential(m, n)
  T.eq(#lines, n)
  local counts = {}
  for k = 0, n - 1 do
    local want = expected_fault(seed, k, rates)
    counts[want] = (counts[want] or 0) + 1
    local status, exit = lines[k + 1]:match("^(%d+) (%d+)")
    local got = ({["500 0"] = "500", ["429 0"] = "429", ["000 56"] = "reset",
                  ["000 52"] = "stall", ["200 18"] = "truncated"})[status .. " " .. exit]
    if status == "200" and exit == "0" then got = "ok/malformed" end
    if want == "ok" or want == "malformed" then want = "ok/malformed" end
    T.eq(got, want, "request " .. k .. " (" .. lines[k + 1] .. ")")
  end
  local s = m.stats()
  T.eq(s.requests, n)
  T.eq(s.by_status["500"], counts["500"])
  T.eq(s.by_status["429"], counts["429"])
  T.eq(s.resets, counts.reset or 0)
  T.eq(s.stalls, counts.stall or 0)
  T.eq(s.malformed, counts.malformed or 0)
  T.eq(s.truncated, counts.truncated or 0)
  T.eq(s.by_status["200"], (counts.ok or 0) + (counts.malformed or 0) + (counts.truncated or 0))
  T.truthy(counts["500"] > 10 and counts.reset and counts.stall and counts.malformed
           and counts.truncated, "every fault drawn at least once")
  -- Retry-After of injected 429s comes from --retry-after.
  local r
  repeat r = chat("q", {mock = m}) until r.status == 429
  T.eq(r.headers["retry-after"], "2")
  -- A prompt with a fault directive is exempt from the draw (and does not consume one).
  m.reset_stats()
  for _ = 1, 20 do T.eq(chat("[[mock:status=418]]", {mock = m}).status, 418) end
  T.eq(sequential(m, 1)[1]:match("^%d+ %d+"), (({["500"] = "500 0", ["429"] = "429 0",
    reset = "000 56", stall = "000 52", truncated = "200 18"})[expected_fault(seed, 0, rates)]
    or "200 0"), "reset-stats restarts the draw sequence")
  T.eq(m.stop(), "")
end)

T.case("two mocks run side by side on their own ports; stop ends the process", function()
  local a, b = M.start{reply = "A"}, M.start{reply = "B"}
  T.truthy(a.port ~= b.port, "distinct ports")
  T.eq(message(chat("x", {mock = a})).content, "A")
  T.eq(message(chat("x", {mock = b})).content, "B")
  -- a stalled request in flight does not hold up a clean stop
  local p = io.popen("curl -s -m 10 -o /dev/null -w '%{exitcode}' --data-binary "
    .. M.quote(chat_body("[[mock:stall]]")) .. " " .. a.url .. "/chat/completions")
  os.execute("sleep 0.2")
  local t0 = core.now()
  T.eq(a.stop(), "")
  T.truthy(core.now() - t0 < 3, "stopped quickly")
  T.eq(p:read("a"), "52", "the stalled client sees the connection close")
  p:close()
  T.eq(a.alive(), false)
  T.eq(chat("x", {mock = a}).exit, 7, "port closed")
  b.kill()
  T.eq(b.alive(), false)
end)

T.case("bad command lines exit 2 with a message and print nothing on stdout", function()
  for _, args in ipairs{{"--fail-rate", "2"}, {"--port", "x"}, {"--nope"}, {"extra"}} do
    local quoted = {}
    for i, a in ipairs(args) do quoted[i] = M.quote(a) end
    local dir = mock.dir
    local ok, how, code = os.execute(M.quote(M.bin) .. " " .. table.concat(quoted, " ")
      .. " >" .. dir .. "/bad.out 2>" .. dir .. "/bad.err")
    T.eq({ok, how, code}, {nil, "exit", 2}, table.concat(args, " "))
    T.eq(io.open(dir .. "/bad.out"):read("a"), "")
    T.truthy(#io.open(dir .. "/bad.err"):read("a") > 0, "stderr says why")
  end
end)

T.case("load: 2,000 requests, 200 in flight, 50 ms latency finish in about 0.5 s", function()
  local m = M.start{latency_ms = 50}
  local cfg = {}
  for i = 1, 2000 do
    if i > 1 then cfg[#cfg + 1] = "next" end
    cfg[#cfg + 1] = 'url = "' .. m.url .. '/chat/completions"'
    cfg[#cfg + 1] = 'data = "' .. chat_body("load " .. i):gsub('"', '\\"') .. '"'
    cfg[#cfg + 1] = 'output = "/dev/null"'
    cfg[#cfg + 1] = 'write-out = "%{http_code}\\n"'
  end
  local path = m.dir .. "/load.cfg"
  local f = assert(io.open(path, "w"))
  f:write(table.concat(cfg, "\n"), "\n")
  f:close()
  local t0 = core.now()
  local p = assert(io.popen("curl -s --parallel --parallel-max 200 -K " .. M.quote(path)
    .. " 2>/dev/null"))
  local ok = 0
  for line in p:lines() do if line == "200" then ok = ok + 1 end end
  p:close()
  local elapsed = core.now() - t0
  io.stdout:write(string.format("load: 2000 requests in %.3f s (bound 0.5 s)\n", elapsed))
  T.eq(ok, 2000)
  local s = m.stats()
  T.eq(s.requests, 2000)
  T.eq(s.by_status, {["200"] = 2000})
  T.truthy(s.peak_in_flight >= 150 and s.peak_in_flight <= 200, "peak " .. s.peak_in_flight)
  T.truthy(elapsed >= 0.5, "elapsed " .. elapsed)
  -- generous for sanitizer builds and a busy CI machine; about 0.65 s normally (curl's own cost)
  T.truthy(elapsed < 3, "elapsed " .. elapsed)
  T.eq(m.stop(), "")
end)

T.eq(mock.stop(), "", "the shared mock's stderr")
T.done()
