-- srm.llm: OpenAI-compatible chat calls from skills.
--
-- llm.chat{...} builds the request, lets srm.transport (C) send it while the record's coroutine
-- yields, and parses the reply into {content, tool_calls, reasoning, finish_reason, usage,
-- endpoint, cached}. Expected failures return nil, message, CODE (TIMEOUT, CONNECT, HTTP_429,
-- HTTP_5XX, HTTP_4XX, BAD_REPLY, TOO_LARGE, ...); wrong arguments raise. llm.batch{...} sends
-- several requests with one yield. Usage is accounted per record (see track) and per run.
local transport = require "srm.transport"
local json = require "srm.json"
local options = require "srm.options"
local core = require "srm.core"

local llm = {}

-- Run-wide settings, set by the host (srm run flags and environment) through configure().
local config = {
  model = nil,
  path = "/chat/completions",
  timeout = 120,
  retries = 3,
  chat_template_kwargs = nil, -- e.g. {enable_thinking = false} for Qwen-style servers
  cache_path = nil,           -- SQLite reply cache, opened on first use
}
local cache_handle = nil
local cache_failed = false

-- The reply cache, opened lazily (a rule-only run never creates the file).
local function cache()
  if cache_handle or cache_failed or not config.cache_path then return cache_handle end
  local c, err = require("srm.cache").open(config.cache_path)
  if not c then
    cache_failed = true
    core.stderr("srm: " .. err .. "; continuing without a cache\n")
    return nil
  end
  cache_handle = c
  return c
end

-- Requests being sent right now, by cache key: an identical request waits for that reply
-- instead of going out again (single flight).
local in_flight = {}
-- Each in-flight key has a slot; the event followers wait on is made only when a follower
-- comes (most requests have none), and signaled when the owner's reply arrives.
local function follow_slot(slot)
  slot.ev = slot.ev or core.event()
  return slot.ev
end

local function release(slot, result)
  if slot.ev then core.signal(slot.ev, result) end
end

-- coroutine -> keys it is sending, so a record stopped mid-call (deadline) releases them
local owned = setmetatable({}, { __mode = "k" })

-- llm.abandon(co): the host calls this when it stops a record; identical requests waiting on
-- its calls are told to send their own.
function llm.abandon(co)
  for _, key in ipairs(owned[co] or {}) do
    local slot = in_flight[key]
    if slot then
      in_flight[key] = nil
      release(slot, { error = "the record that was sending this request was stopped",
        code = "CANCELLED" })
    end
  end
  owned[co] = nil
end
local dropped_template_kwargs = false -- a server refused chat_template_kwargs once: stop sending

local totals = { llm_calls = 0, prompt_tokens = 0, completion_tokens = 0, cache_hits = 0, retries = 0 }
-- The per-record usage fields (rows' `usage`, in this order).
llm.USAGE_KEYS = { "llm_calls", "prompt_tokens", "completion_tokens", "cache_hits", "retries" }

-- Per-record accounting: the evaluator registers each record's coroutine with a usage table
-- and a sticky number (which endpoint the record starts on).
local records = setmetatable({}, { __mode = "k" })

-- canned: for self-tests, an array of reply texts (or {content=, tool_calls=} tables) handed
-- out in order instead of calling a server; running out is a JUDGE_FAILED-style error.
function llm.track(co, usage, sticky, canned)
  records[co] = { usage = usage, sticky = sticky, canned = canned, next_canned = 1 }
end

local function canned_reply(rec)
  local c = rec.canned[rec.next_canned]
  if c == nil then
    return { error = "self-test: no canned llm reply left (add one to the test's llm list)",
      code = "NO_CANNED_REPLY" }
  end
  rec.next_canned = rec.next_canned + 1
  if type(c) == "string" then c = { content = c } end
  local body = {
    choices = { { message = { role = "assistant", content = c.content, tool_calls = c.tool_calls },
      finish_reason = c.tool_calls and "tool_calls" or "stop" } },
    usage = { prompt_tokens = 0, completion_tokens = 0 },
  }
  return { body = json.encode(body), cached = false, attempts = 1, latency_ms = 0,
    endpoint = "self-test" }
end

local CONFIG_SCHEMA = {
  endpoints = "table", api_key = "string?", model = "string?", max_inflight = "integer?",
  per_endpoint = "integer?", connect_timeout = "number?", max_response = "integer?",
  max_request = "integer?", rpm = "number?", tpm = "number?", timeout = "number?",
  retries = "integer?", chat_template_kwargs = "table?", cache = "string?",
}

-- llm.configure{endpoints=, api_key=, model=, ...}: host-only (hidden from skills).
function llm.configure(c)
  options.check("srm.llm.configure", c, CONFIG_SCHEMA, 2)
  transport.configure {
    endpoints = c.endpoints, api_key = c.api_key, max_inflight = c.max_inflight,
    per_endpoint = c.per_endpoint, connect_timeout = c.connect_timeout,
    max_response = c.max_response, max_request = c.max_request, rpm = c.rpm, tpm = c.tpm,
  }
  config.model = c.model
  config.timeout = c.timeout or config.timeout
  config.retries = c.retries or config.retries
  config.chat_template_kwargs = c.chat_template_kwargs
  if c.cache ~= config.cache_path then
    cache_handle, cache_failed = nil, false
  end
  config.cache_path = c.cache
  return true
end

function llm.cache_stats() return cache_handle and cache_handle:stats() or nil end

function llm.totals() return totals end
function llm.stats() return transport.stats() end

local CHAT_SCHEMA = {
  model = "string?", messages = "table", temperature = "number?", top_p = "number?",
  max_tokens = "integer?", seed = "integer?", stop = "string|table?", tools = "table?",
  tool_choice = "string|table?", response_format = "table?", timeout = "number?",
  retries = "integer?", extra = "table?",
}

-- Validates one request and builds its body. level: as for error(), counted from build (so
-- the caller of llm.chat / llm.batch is level 3).
local function build(req, level)
  options.check("srm.llm.chat", req, CHAT_SCHEMA, level + 1)
  if #req.messages == 0 then error("srm.llm.chat: messages must be a non-empty array", level) end
  -- One constructor with every sampling field (absent ones are nil and take no slot): the table
  -- is sized once instead of growing field by field. model is checked in send (self-tests need
  -- none).
  local body = {
    model = req.model or config.model, messages = json.array(req.messages),
    temperature = req.temperature, top_p = req.top_p, max_tokens = req.max_tokens,
    seed = req.seed, stop = req.stop, tools = req.tools and json.array(req.tools),
    tool_choice = req.tool_choice, response_format = req.response_format,
  }
  if req.extra then
    for k, v in pairs(req.extra) do body[k] = v end
  end
  return body
end

-- Turns a transport result into a reply or (nil, message, code).
local function parse(result)
  if result.error then return nil, result.error, result.code end
  local doc, err = result.doc, nil
  if not doc then doc, err = json.decode(result.body) end
  if type(doc) ~= "table" then
    return nil, "the reply is not JSON: " .. tostring(err), "BAD_REPLY"
  end
  local choice = type(doc.choices) == "table" and doc.choices[1]
  local msg = type(choice) == "table" and choice.message
  if type(msg) ~= "table" then
    return nil, "the reply has no choices[1].message", "BAD_REPLY"
  end
  local usage = type(doc.usage) == "table" and doc.usage or {}
  local content = msg.content
  if content == json.null then content = nil end
  local reasoning = msg.reasoning_content or msg.reasoning
  if reasoning == json.null then reasoning = nil end
  local tool_calls = msg.tool_calls
  if tool_calls == json.null then tool_calls = nil end
  return {
    content = content,
    tool_calls = tool_calls,
    reasoning = reasoning,
    finish_reason = choice.finish_reason ~= json.null and choice.finish_reason or nil,
    usage = {
      prompt_tokens = math.tointeger(usage.prompt_tokens) or 0,
      completion_tokens = math.tointeger(usage.completion_tokens) or 0,
    },
    endpoint = result.endpoint,
    cached = result.cached or false,
    latency_ms = result.latency_ms,
  }
end

local function account(rec, reply, attempts)
  totals.llm_calls = totals.llm_calls + 1
  totals.retries = totals.retries + math.max(0, (attempts or 1) - 1)
  local u = rec and rec.usage
  if u then
    u.llm_calls = (u.llm_calls or 0) + 1
    u.retries = (u.retries or 0) + math.max(0, (attempts or 1) - 1)
  end
  if reply then
    local pt, ct = reply.usage.prompt_tokens, reply.usage.completion_tokens
    totals.prompt_tokens = totals.prompt_tokens + pt
    totals.completion_tokens = totals.completion_tokens + ct
    if reply.cached then totals.cache_hits = totals.cache_hits + 1 end
    if u then
      u.prompt_tokens = (u.prompt_tokens or 0) + pt
      u.completion_tokens = (u.completion_tokens or 0) + ct
      if reply.cached then u.cache_hits = (u.cache_hits or 0) + 1 end
    end
  end
end

local function names_template_kwargs(result)
  return result.code == "HTTP_4XX" and result.status == 400 and type(result.body) == "string"
    and result.body:find("chat_template_kwargs", 1, true) ~= nil
end

-- Sends the bodies (those not answered from the cache or by an identical request already in
-- flight) in one yield; returns replies in order. The tables that only the cache needs (keys,
-- followers, own) are made only when a cache is configured: most runs call this once per record.
local function send(bodies, timeouts, retries)
  local co = coroutine.running()
  local rec = records[co]
  local sticky = rec and rec.sticky or 0
  -- payload[i]: what goes on the wire. With a cache the JSON text (encoded once: the same bytes
  -- give the cache / single-flight key); without, the body table itself, which the transport
  -- encodes straight into its request buffer (no Lua copy of an often multi-KB text).
  local results, pending, payload = {}, {}, {}
  local c, keys, follow, own -- with a cache: key per body, followed slots, keys this record holds
  if rec and rec.canned then
    for i = 1, #bodies do results[i] = canned_reply(rec) end
  else
    c = cache()
    if c then keys, follow, own = {}, {}, {} end
    for i, body in ipairs(bodies) do
      if not body.model then
        error("srm.llm.chat: no model given (pass model= or set SRM_MODEL / --model)", 3)
      end
      if config.chat_template_kwargs and not dropped_template_kwargs then
        body.chat_template_kwargs = config.chat_template_kwargs
      end
      -- Without a cache every request goes out, identical ones included (with temperature > 0
      -- they are independent samples), so no key is needed.
      if not c then
        payload[i] = body
        pending[#pending + 1] = i
      else
        payload[i] = json.encode(body)
        local key = core.sha256(payload[i])
        keys[i] = key
        local hit = c:get(key)
        if hit then
          results[i] = { body = hit, cached = true, attempts = 0, latency_ms = 0 }
        elseif in_flight[key] then
          follow[i] = follow_slot(in_flight[key])
        else
          in_flight[key] = {}
          owned[co] = owned[co] or {}
          table.insert(owned[co], key)
          pending[#pending + 1] = i
          own[#own + 1] = i
        end
      end
    end
  end
  -- Up to two rounds: the second re-sends replies that were not JSON (a truncated or garbled
  -- body is usually transient) and requests refused for chat_template_kwargs.
  for round = 1, 2 do
    if #pending == 0 then break end
    local reqs = {}
    for j, i in ipairs(pending) do
      -- decode: the reply comes back as a table (doc); its text only when the cache keeps it.
      reqs[j] = { path = config.path, body = payload[i], timeout = timeouts[i],
        retries = round == 1 and retries[i] or 0, decode = true, keep_body = c ~= nil }
    end
    local ok, out = pcall(transport.post, reqs, sticky)
    if not ok then -- release the followers before re-raising (no endpoint configured, ...)
      for _, i in ipairs(own or {}) do
        release(in_flight[keys[i]], { error = tostring(out), code = "CONFIG" })
        in_flight[keys[i]] = nil
      end
      error(out, 0)
    end
    local again = {}
    for j, i in ipairs(pending) do
      local r = out[j]
      if results[i] and results[i].attempts then r.attempts = r.attempts + results[i].attempts end
      results[i] = r
      if round == 1 and names_template_kwargs(r) and bodies[i].chat_template_kwargs then
        dropped_template_kwargs = true
        bodies[i].chat_template_kwargs = nil
        if c then payload[i] = json.encode(bodies[i]) end
        again[#again + 1] = i
      elseif round == 1 and not r.error and not r.doc then
        again[#again + 1] = i
      end
    end
    pending = again
  end
  if own then
    for _, i in ipairs(own) do
      local r = results[i]
      if r.doc then c:put(keys[i], r.body) end
      release(in_flight[keys[i]], r)
      in_flight[keys[i]] = nil
    end
    owned[co] = nil
  end
  if follow and next(follow) then
    local orphans = {}
    for i, ev in pairs(follow) do
      local r = core.wait(ev)
      if r.code == "CANCELLED" then
        orphans[#orphans + 1] = i
      else
        results[i] = { body = r.body, doc = r.doc, error = r.error, code = r.code,
          status = r.status, endpoint = r.endpoint, attempts = 0, latency_ms = 0,
          cached = not r.error }
      end
    end
    if #orphans > 0 then -- the record we followed was stopped: send these ourselves
      local b, t, n = {}, {}, {}
      for j, i in ipairs(orphans) do b[j], t[j], n[j] = bodies[i], timeouts[i], retries[i] end
      local again = send(b, t, n)
      for j, i in ipairs(orphans) do results[i] = { reply = again[j] } end
    end
  end
  local replies = {}
  for i = 1, #bodies do
    if results[i].reply then -- already parsed and accounted by the nested send
      replies[i] = results[i].reply
    else
      local reply, msg, code = parse(results[i])
      account(rec, reply, results[i].attempts)
      replies[i] = reply and reply or { error = msg, code = code }
    end
  end
  return replies
end

-- llm.tool_reply(name, arguments) -> a canned reply for self-tests (a test case's `llm` list)
-- in which the model calls tool `name` with `arguments` (a JSON text).
function llm.tool_reply(name, arguments)
  return { tool_calls = { { id = "c_" .. name, type = "function",
    ["function"] = { name = name, arguments = arguments } } } }
end

--[[
llm.chat{model=, messages=, temperature=, top_p=, max_tokens=, seed=, stop=, tools=,
         tool_choice=, response_format=, timeout=, retries=, extra=}
  -> {content, tool_calls, reasoning, finish_reason, usage, endpoint, cached} | nil, msg, CODE
Raises on bad arguments (unknown keys included); yields the calling record's coroutine.
]]
function llm.chat(req)
  local body = build(req, 3)
  local r = send({ body }, { req.timeout or config.timeout }, { req.retries or config.retries })[1]
  if r.error then return nil, r.error, r.code end
  return r
end

--[[
llm.batch{req1, req2, ...} -> {result1, result2, ...}
All requests go out with one yield; result i is a reply as from llm.chat, or
{error = message, code = CODE} when request i failed.
]]
function llm.batch(reqs)
  options.check_type("srm.llm.batch", "argument #1", reqs, "table", 3)
  local bodies, timeouts, retries = {}, {}, {}
  for i, req in ipairs(reqs) do
    bodies[i] = build(req, 3)
    timeouts[i] = req.timeout or config.timeout
    retries[i] = req.retries or config.retries
  end
  return send(bodies, timeouts, retries)
end

return llm
