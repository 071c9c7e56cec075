-- srm.rule: evidence from deterministic checks of a record — a regular expression over a
-- field, or a skill-supplied predicate function.
--
-- Each constructor returns an evidence item {kind =, describe =, run = fn(record, ctx) ->
-- result}, where result is {score = 0..1 | nil, status = "ok" | "abstain" | "input_error",
-- reason = string | nil, detail = table | nil}. Options are validated at construction and a
-- bad one raises at the skill's line; run() never keeps state between records.
local options = require "srm.options"
local re = require "srm.re"
local extract = require "srm.extract"

local rule = {}

local MATCH_SHOWN = 200
local clip = extract.clip

--[[
rule.regex{field = "response", pattern = "...", flags = "", expect = "match" | "no_match"}
  -> evidence
Score 1 when the outcome is the expected one (pattern found in the field, or not found for
expect = "no_match"), else 0. The pattern is compiled once here (a bad pattern raises at the
skill's line). A match limit hit on the text gives status "abstain" with the limit's message.
detail = {matched = boolean, match = first 200 bytes of the match | nil}.
]]
function rule.regex(opts)
  local api = "rule.regex"
  options.check(api, opts, {field = "string?", pattern = "string", flags = "string?",
                            expect = "string?"})
  local field = opts.field or "response"
  options.check_path(api, "option 'field'", field)
  local expect = opts.expect or "match"
  if expect ~= "match" and expect ~= "no_match" then
    error(api .. ": option 'expect' must be \"match\" or \"no_match\", got \"" .. expect .. "\"", 2)
  end
  if type(re.compile) ~= "function" then error(api .. ": srm.re is not available", 2) end
  local ok, rx = pcall(re.compile, opts.pattern, opts.flags)
  if not ok then
    local msg = tostring(rx):gsub("^rule%.regex: ", "")
    error(api .. ": bad pattern: " .. msg, 2)
  end
  local pattern, want = opts.pattern, expect == "match"
  local describe = string.format("%s /%s/%s in '%s'", expect == "match" and "matches" or
    "does not match", clip(pattern, 80), opts.flags or "", field)
  local reason_match = "'" .. field .. "' matches the pattern"
  local reason_no_match = "'" .. field .. "' does not match the pattern"
  return {
    kind = "rule.regex",
    describe = describe,
    run = function(record)
      local text, why = options.field(record, field)
      if not text then return {status = "input_error", reason = why} end
      local s, e, msg = rx:find(text)
      if s == nil and e ~= nil then
        local code = msg and (" (" .. tostring(msg) .. ")") or ""
        return {status = "abstain", reason = tostring(e) .. code}
      end
      local matched = s ~= nil
      local detail = {matched = matched}
      if matched then detail.match = clip(text:sub(s, e), MATCH_SHOWN) end
      return {score = matched == want and 1 or 0, status = "ok",
              reason = matched and reason_match or reason_no_match, detail = detail}
    end,
  }
end

-- Turns whatever a predicate returned into a result table (raises on nonsense: a skill bug).
local function to_result(v, detail)
  local tv = type(v)
  if tv == "boolean" then
    return {score = v and 1 or 0, status = "ok", detail = detail}
  elseif tv == "number" then
    if v ~= v or v < 0 or v > 1 then
      error("rule.predicate: score " .. tostring(v) .. " is outside [0, 1]", 0)
    end
    return {score = v, status = "ok", detail = detail}
  elseif tv == "table" then
    local r = {}
    for k, x in pairs(v) do r[k] = x end
    r.status = r.status or "ok"
    if type(r.status) ~= "string" then
      error("rule.predicate: result status must be a string, got " .. type(r.status), 0)
    end
    if r.status == "ok" and (type(r.score) ~= "number" or r.score ~= r.score) then
      error("rule.predicate: result with status ok needs a numeric score, got " .. type(r.score), 0)
    end
    return r
  end
  error("rule.predicate: the function returned " .. tv
    .. "; return a boolean, a score in [0, 1], a result table or (score, detail)", 0)
end

--[[
rule.predicate(fn) or rule.predicate{fn = f, describe = "..."} -> evidence
fn(record, ctx) returns a boolean (1 or 0), a score in [0, 1], a result table, or
(score, detail). Errors it raises (including {code = "ABSTAIN"}) propagate to the evaluator.
]]
function rule.predicate(arg)
  local api = "rule.predicate"
  local fn, describe
  if type(arg) == "function" then
    fn = arg
  else
    options.check(api, arg, {fn = "function", describe = "string?"})
    fn, describe = arg.fn, arg.describe
  end
  if not describe then
    local info = debug.getinfo(fn, "S")
    describe = "predicate " .. info.short_src .. ":" .. info.linedefined
  end
  return {
    kind = "rule.predicate",
    describe = describe,
    run = function(record, ctx)
      local v, detail = fn(record, ctx)
      if detail ~= nil and type(detail) ~= "table" then
        error("rule.predicate: detail must be a table, got " .. type(detail), 0)
      end
      local r = to_result(v, detail)
      return r
    end,
  }
end

rule.max_tokens = require("srm.tok_evidence").max_tokens

return rule
