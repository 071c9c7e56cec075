-- srm.tok_evidence: token-length evidence and the DAPO-style overlong penalty, re-exported as
-- srm.rule.max_tokens and srm.policy.overlong_penalty (it requires neither module, so both can
-- require it).
--
-- rule.max_tokens is an evidence item {kind, describe, run = fn(record, ctx) -> result} (the
-- contract of srm.rule); policy.overlong_penalty is a policy node {kind, eval, names, describe}
-- (the contract of srm.policy). Options are checked at construction; the tokenizer is loaded
-- there too (once per process, shared), so a bad name fails the skill's load at its line.
local options = require "srm.options"
local tok = require "srm.tok"

local M = {}

local format, floor, mtype = string.format, math.floor, math.type

local SPECIAL = {allow = true, text = true, error = true}

-- A tokenizer userdata from a name/path or an already loaded one; raises at `level`.
local function tokenizer_of(api, x, level)
  if type(x) == "userdata" and getmetatable(x) == "srm.tok" then return x end
  if type(x) ~= "string" then
    error(api .. ": option 'tokenizer' must be a tokenizer name, a path or a loaded tokenizer, got "
      .. type(x), level)
  end
  -- While a skill loads (where its evidence is built), its own rules apply: a name, or a path
  -- inside the skill's directory (see sandbox.lua). Trusted host code may pass any path.
  local load = require("srm.files").current() and require("srm.sandbox").tok_load or tok.load
  local t, msg = load(x)
  if not t then error(api .. ": " .. tostring(msg):gsub("^srm%.tok%.load: ", ""), level) end
  return t
end

local function positive_integer(api, what, v, level)
  if mtype(v) ~= "integer" and not (type(v) == "number" and v == floor(v) and v < 2^53) then
    error(api .. ": option '" .. what .. "' must be an integer, got " .. tostring(v), level)
  end
  if v < 1 then error(api .. ": option '" .. what .. "' must be at least 1, got " .. v, level) end
  return floor(v)
end

--[[
rule.max_tokens{tokenizer = "qwen3" | tok, max = n, field = "response", special = "allow"}
  -> evidence
Counts the field's tokens with the model's tokenizer (srm.tok). Score 1 when count <= max, else
0; detail = {tokens = count, max = max} (policy.overlong_penalty reads detail.tokens). special
is srm.tok's option (special tokens in the text: "allow" counts them as one token each, "text"
as text, "error" makes the evidence abstain). A missing field gives input_error.
]]
function M.max_tokens(opts)
  local api = "rule.max_tokens"
  options.check(api, opts, {tokenizer = "any", max = "number", field = "string?",
                            special = "string?"})
  local field = opts.field or "response"
  options.check_path(api, "option 'field'", field)
  local special = opts.special or "allow"
  if not SPECIAL[special] then
    error(api .. ": option 'special' must be \"allow\", \"text\" or \"error\", got \"" .. special
      .. "\"", 2)
  end
  local max = positive_integer(api, "max", opts.max, 3)
  local t = tokenizer_of(api, opts.tokenizer, 3)
  local count_opts = {special = special}
  return {
    kind = "rule.max_tokens",
    describe = format("at most %d %s tokens in '%s'", max, t.name, field),
    run = function(record)
      local text, why = options.field(record, field)
      if not text then return {status = "input_error", reason = why} end
      local n, msg = t:count(text, count_opts)
      if not n then return {status = "abstain", reason = msg} end
      local ok = n <= max
      return {score = ok and 1 or 0, status = "ok", detail = {tokens = n, max = max},
              reason = format("'%s' has %d tokens (%s %d)", field, n, ok and "max" or "over",
                              max)}
    end,
  }
end

local function is_node(x)
  return type(x) == "table" and type(x.eval) == "function" and type(x.names) == "function"
    and type(x.describe) == "function"
end

-- DAPO's soft overlong punishment: 0 up to max - buffer tokens, then linear down to -1 at max,
-- -1 beyond.
local function penalty(n, max, buffer)
  local free = max - buffer
  if n <= free then return 0 end
  if n <= max then return (free - n) / buffer end
  return -1
end
M.overlong_penalty_of = penalty

--[[
policy.overlong_penalty{child, tokens = "length", max = L, buffer = B} -> node
child's score plus DAPO's overlong penalty for the token count that evidence `tokens` reports
in detail.tokens (rule.max_tokens does): 0 when count <= L - B, (L - B - count) / B up to L,
-1 beyond. 0 < B <= L. Decided when the child is. When the child does not count the node passes
its outcome on; when the tokens evidence does not count (or has no detail.tokens) the penalty
is left out and the evidence is listed in `excluded`.
]]
function M.overlong_penalty(spec)
  local api = "policy.overlong_penalty"
  options.check(api, spec, {["..."] = "string|table", tokens = "string", max = "number",
                            buffer = "number"})
  if #spec ~= 1 then error(api .. ": needs exactly one child, got " .. #spec, 2) end
  local child = spec[1]
  if child == "" or (type(child) == "table" and not is_node(child)) then
    error(api .. ": the child must be an evidence name or a policy", 2)
  end
  local max = positive_integer(api, "max", spec.max, 3)
  local buffer = positive_integer(api, "buffer", spec.buffer, 3)
  if buffer > max then
    error(api .. ": option 'buffer' (" .. buffer .. ") must not exceed 'max' (" .. max .. ")", 2)
  end
  local tokens = spec.tokens
  if tokens == "" then error(api .. ": option 'tokens' is an empty evidence name", 2) end
  local label = type(child) == "string" and child or (child.kind or "policy")
  return {
    kind = "policy.overlong_penalty",
    eval = function(_, env)
      local o = env:eval(child)
      local excluded = {}
      for i, name in ipairs(o.excluded or {}) do excluded[i] = name end
      if not (o.status == "ok" and type(o.score) == "number") then
        return {score = nil, status = o.status, decided = false, excluded = excluded,
                reason = "overlong_penalty: " .. label .. " did not count: " .. tostring(o.reason)}
      end
      local r = env:evidence(tokens)
      local n = r.status == nil or r.status == "ok"
      n = n and type(r.detail) == "table" and r.detail.tokens or nil
      if mtype(n) ~= "integer" then
        local seen = false
        for _, name in ipairs(excluded) do seen = seen or name == tokens end
        if not seen then excluded[#excluded + 1] = tokens end
        return {score = o.score, status = "ok", decided = o.decided, excluded = excluded,
                verdict = o.verdict,
                reason = o.reason .. "; no overlong penalty: '" .. tokens .. "' gave no token count"}
      end
      local p = penalty(n, max, buffer)
      return {score = o.score + p, status = "ok", decided = o.decided, excluded = excluded,
              verdict = o.verdict,
              reason = format("%s; overlong penalty %s for %d tokens (max %d, buffer %d)",
                              o.reason, p == 0 and "0" or format("%.4g", p), n, max, buffer)}
    end,
    names = function()
      local names = type(child) == "string" and {child} or child:names()
      local out, seen = {}, {}
      for _, name in ipairs(names) do
        if not seen[name] then
          seen[name] = true
          out[#out + 1] = name
        end
      end
      if not seen[tokens] then out[#out + 1] = tokens end
      return out
    end,
    describe = function(_, indent)
      indent = type(indent) == "number" and string.rep(" ", indent) or (indent or "")
      local inner = type(child) == "string" and (indent .. "  " .. child)
        or child:describe(indent .. "  ")
      return format("%soverlong penalty on '%s' tokens (max %d, buffer %d) added to:\n%s", indent,
                    tokens, max, buffer, inner)
    end,
  }
end

return M
