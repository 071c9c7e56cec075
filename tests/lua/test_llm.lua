-- srm.llm against srm-mock: replies, tool calls, retries, Retry-After, fail-fast 4xx, timeouts,
-- size caps, malformed replies, batches, single flight, and no handles or refs left behind.
local T = dofile("tests/lua/testlib.lua")
local M = dofile("tests/lua/mocklib.lua")
M.require_mock()
local llm = require "srm.llm"
local transport = require "srm.transport"
local core = require "srm.core"

local mock <close> = M.start { latency_ms = 5 }

local function configure(extra)
  local c = { endpoints = { mock.url }, model = "mock", timeout = 2, retries = 3,
    max_response = 1 << 20 }
  for k, v in pairs(extra or {}) do c[k] = v end
  llm.configure(c)
end
configure()
do -- the cache's metatable is created once per state: create it before counting registry entries
  local path = os.tmpname()
  require("srm.cache").open(path):close()
  for _, suffix in ipairs { "", "-wal", "-shm" } do os.remove(path .. suffix) end
end

-- Live registry references (luaL_unref leaves an integer free-list link in a freed slot).
local function registry_size()
  local n = 0
  for _, v in pairs(debug.getregistry()) do
    if type(v) ~= "number" then n = n + 1 end
  end
  return n
end

local function user(text) return { { role = "user", content = text } } end

-- Warm up first-use state (module caches, scratch buffers) so the registry counts compare
-- like with like.
assert(llm.chat { messages = user("warm up") })

-- Every case must leave no easy handle, no request in flight and no new registry entry.
local function clean_case(name, fn)
  T.case(name, function()
    collectgarbage()
    local before = registry_size()
    fn()
    local s = transport.stats()
    T.eq(s.live_handles, 0, "easy handles left")
    T.eq(s.inflight, 0, "requests in flight left")
    collectgarbage()
    T.eq(registry_size(), before, "registry entries left")
  end)
end

clean_case("a plain reply is parsed with usage and endpoint", function()
  local r = assert(llm.chat { messages = user("hello [[mock:reply=hi there]]") })
  T.eq(r.content, "hi there")
  T.eq(r.finish_reason, "stop")
  T.truthy(r.usage.prompt_tokens > 0, "prompt tokens")
  T.eq(r.endpoint, mock.url)
  T.eq(r.cached, false)
end)

clean_case("tool calls come back as a list", function()
  local r = assert(llm.chat { messages = user('[[mock:tool_call=lookup:{"q":"x"}]]'),
    tools = { { type = "function", ["function"] = { name = "lookup", parameters = { type = "object" } } } } })
  T.eq(r.finish_reason, "tool_calls")
  T.eq(r.tool_calls[1]["function"].name, "lookup")
  T.eq(r.tool_calls[1]["function"].arguments, '{"q":"x"}')
end)

clean_case("the request carries exactly the given fields", function()
  local r = assert(llm.chat { messages = user("[[mock:echo=body]]"), temperature = 0.5, seed = 7,
    max_tokens = 9, extra = { top_k = 3 } })
  local body = require("srm.json").decode(r.content)
  T.eq(body.temperature, 0.5)
  T.eq(body.seed, 7)
  T.eq(body.max_tokens, 9)
  T.eq(body.top_k, 3)
  T.eq(body.model, "mock")
  T.eq(body.chat_template_kwargs, nil, "not sent unless configured")
end)

clean_case("chat_template_kwargs: sent when configured, dropped after a 400 that names it", function()
  local kwargs = { enable_thinking = false }
  configure { chat_template_kwargs = kwargs }
  local function sent()
    local r = assert(llm.chat { messages = user("[[mock:echo=body]] " .. core.now()) })
    return require("srm.json").decode(r.content).chat_template_kwargs
  end
  T.eq(sent(), kwargs, "sent while configured")
  local before = transport.stats().attempts
  local r, _, code = llm.chat { messages = user("[[mock:status=400]] " .. core.now()) }
  T.eq(code, "HTTP_4XX", "a 400 that does not name the field fails as usual")
  T.eq(r, nil)
  T.eq(transport.stats().attempts - before, 1, "and is not re-sent")
  T.eq(sent(), kwargs, "still sent")
  before = transport.stats().attempts
  r = assert(llm.chat { messages = user("[[mock:reject=chat_template_kwargs]] " .. core.now()) })
  T.eq(r.content, '{"score": 4, "reason": "ok"}', "re-sent without the field, and answered")
  T.eq(transport.stats().attempts - before, 2, "the refused attempt and the re-send")
  T.eq(sent(), nil, "not sent again in this run")
  configure()
end)

clean_case("a request that JSON cannot hold raises, naming where, and sends nothing", function()
  local before = transport.stats().attempts
  local ok, err = pcall(llm.chat, { messages = { { role = "user", content = print } } })
  T.eq(ok, false)
  T.truthy(tostring(err):find("cannot encode a function at $.messages[1].content", 1, true), err)
  T.eq(transport.stats().attempts, before, "no attempt")
end)

clean_case("5xx is retried until it succeeds", function()
  local before = transport.stats().retries
  local r = assert(llm.chat { messages = user("x [[mock:fail_first=2]] " .. core.now()) })
  T.eq(r.content, '{"score": 4, "reason": "ok"}')
  T.eq(transport.stats().retries - before, 2, "two retries")
end)

clean_case("429 waits for Retry-After", function()
  local t0 = core.now()
  local r, err, code = llm.chat { messages = user("[[mock:status=429,retry_after=1]]"), retries = 1 }
  T.eq(r, nil)
  T.eq(code, "HTTP_429")
  T.truthy(err:find("2 attempts", 1, true), err)
  T.truthy(core.now() - t0 >= 0.95, "waited the Retry-After second")
end)

clean_case("400 fails fast, without retries", function()
  local before = transport.stats().attempts
  local r, _, code = llm.chat { messages = user("[[mock:status=400]]") }
  T.eq(r, nil)
  T.eq(code, "HTTP_4XX")
  T.eq(transport.stats().attempts - before, 1, "one attempt")
end)

clean_case("a stalled server times out per attempt, bounded", function()
  local t0 = core.now()
  local r, _, code = llm.chat { messages = user("[[mock:stall=5000]]"), timeout = 0.3, retries = 1 }
  T.eq(r, nil)
  T.eq(code, "TIMEOUT")
  T.truthy(core.now() - t0 < 3, "bounded by the attempts")
end)

clean_case("an oversized reply is refused while receiving", function()
  local r, _, code = llm.chat { messages = user("[[mock:oversized=3000000]]") }
  T.eq(r, nil)
  T.eq(code, "TOO_LARGE")
end)

clean_case("a malformed reply is resent once, then BAD_REPLY", function()
  local r, _, code = llm.chat { messages = user("[[mock:malformed]]"), retries = 0 }
  T.eq(r, nil)
  T.eq(code, "BAD_REPLY")
end)

clean_case("a reset connection is retried", function()
  local r, _, code = llm.chat { messages = user("[[mock:reset]] " .. core.now()), retries = 1 }
  T.eq(r, nil, "a reset every time fails in the end")
  T.eq(code, "CONNECT")
end)

clean_case("batch: results in order, failures in place", function()
  local out = llm.batch {
    { messages = user("[[mock:latency_ms=80]] [[mock:reply=one]]") },
    { messages = user("[[mock:status=404]]") },
    { messages = user("[[mock:reply=three]]") },
  }
  T.eq(out[1].content, "one")
  T.eq(out[2].code, "HTTP_4XX")
  T.eq(out[3].content, "three")
end)

clean_case("with a cache, identical requests in flight are sent once (single flight)", function()
  local path = os.tmpname()
  configure { cache = path }
  mock.reset_stats()
  local msgs = user("same question [[mock:latency_ms=100]] " .. core.now())
  local out = llm.batch { { messages = msgs }, { messages = msgs } }
  -- Within one batch both are the same key: the second follows the first.
  T.eq(out[1].content, out[2].content)
  T.eq(mock.stats().requests, 1, "one HTTP request")
  configure()
  collectgarbage()
  for _, suffix in ipairs { "", "-wal", "-shm" } do os.remove(path .. suffix) end
end)

clean_case("without a cache, identical requests are independent samples", function()
  mock.reset_stats()
  local msgs = user("same question again [[mock:latency_ms=50]] " .. core.now())
  local out = llm.batch { { messages = msgs }, { messages = msgs } }
  T.eq(out[1].cached, false)
  T.eq(out[2].cached, false)
  T.eq(mock.stats().requests, 2, "two HTTP requests")
end)

clean_case("unknown options raise", function()
  T.raises(function() llm.chat { messages = user("x"), temprature = 0 } end, "unknown option 'temprature'")
end)

clean_case("no endpoint configured is a clear error", function()
  configure { endpoints = {} }
  T.raises(function() llm.chat { messages = user("x") } end, "no model endpoint configured")
  configure()
end)

T.done()
