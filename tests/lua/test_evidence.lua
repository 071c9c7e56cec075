-- srm.rule and srm.reference: evidence items run on records, input errors, option checking,
-- and reference.number against the 5,276 labelled GSM8K model solutions.
local T = dofile("tests/lua/testlib.lua")
local rule = require "srm.rule"
local reference = require "srm.reference"
local options = require "srm.options"

local ctx = {settings = {}, skill = {name = "test", dir = "."}}

local function result(item, record)
  return item.run(record, ctx)
end

local here = "test_evidence.lua:"

local function raises_here(fn, fragment)
  local err = T.raises(fn, fragment)
  T.truthy(tostring(err):find(here, 1, true),
    "message has the caller's position: " .. tostring(err))
end

-------------------------------------------------------------------------------------------
-- options

T.case("options.check messages", function()
  local schema = {field = "string", n = "integer?", x = "string|table?", any = "any?"}
  T.eq(options.check("api", {field = "f"}, schema), {field = "f"})
  raises_here(function() options.check("api", {fiel = "f"}, schema, 2) end,
    "api: unknown option 'fiel'")
  raises_here(function() options.check("api", {field = 1}, schema, 2) end,
    "api: option 'field' must be a string, got number")
  raises_here(function() options.check("api", {}, schema, 2) end,
    "api: missing required option 'field'")
  raises_here(function() options.check("api", {field = "f", n = 1.5}, schema, 2) end,
    "api: option 'n' must be an integer, got non-integer number")
  raises_here(function() options.check("api", {field = "f", x = 1}, schema, 2) end,
    "api: option 'x' must be a string or table, got number")
  raises_here(function() options.check("api", {"pos", field = "f"}, schema, 2) end,
    "api: unexpected positional argument #1")
  raises_here(function() options.check("api", "nope", schema, 2) end,
    "api: expected an option table, got string")
  T.eq(options.check("api", {field = "f", n = 2.0, any = false}, schema).n, 2.0)
  raises_here(function() options.check_type("api", "argument #1", nil, "function", 2) end,
    "api: argument #1 must be a function, got nil")
  T.eq(options.check_type("api", "argument #1", nil, "function?"), nil)
end)

T.case("options.field reads dotted paths", function()
  local rec = {response = "r", meta = {answer = "42", deep = {x = "y"}}, ["a.b"] = "literal", n = 5}
  T.eq(options.field(rec, "response"), "r")
  T.eq(options.field(rec, "meta.answer"), "42")
  T.eq(options.field(rec, "meta.deep.x"), "y")
  T.eq(options.field(rec, "a.b"), "literal")
  T.eq({options.field(rec, "meta.missing")}, {nil, "record has no string field 'meta.missing'"})
  T.eq({options.field(rec, "response.x")}, {nil, "record has no string field 'response.x'"})
  T.eq({options.field(rec, "n")}, {nil, "record has no string field 'n'"})
  T.eq({options.field(nil, "n")}, {nil, "record is not a table"})
end)

-------------------------------------------------------------------------------------------
-- reference

T.case("reference.exact", function()
  local ev = reference.exact{field = "response", gold = "answer"}
  T.eq(ev.kind, "reference.exact")
  T.eq(ev.describe, "'response' equals 'answer' (trimmed)")
  local r = result(ev, {response = "  Paris\n", answer = "Paris"})
  T.eq({r.score, r.status}, {1, "ok"})
  r = result(ev, {response = "paris", answer = "Paris"})
  T.eq({r.score, r.status, r.reason}, {0, "ok", "not an exact match"})
  T.eq(r.detail, {got = "paris", expected = "Paris"})
  r = result(ev, {answer = "Paris"})
  T.eq(r, {status = "input_error", reason = "record has no string field 'response'"})
  r = result(ev, {response = "x", answer = 3})
  T.eq(r, {status = "input_error", reason = "record has no string field 'answer'"})
end)

T.case("reference.normalized", function()
  local ev = reference.normalized{gold = "meta.answer"}
  local r = result(ev, {response = "The  Eiffel tower!", meta = {answer = "eiffel Tower"}})
  T.eq({r.score, r.status, r.reason}, {1, "ok", "normalized match"})
  r = result(ev, {response = "a tower", meta = {answer = "eiffel tower"}})
  T.eq({r.score, r.detail}, {0, {got = "tower", expected = "eiffel tower"}})
  T.eq(result(ev, {response = "x", meta = "flat"}),
    {status = "input_error", reason = "record has no string field 'meta.answer'"})
end)

T.case("reference.number", function()
  local ev = reference.number{field = "response", gold = "answer"}
  T.eq(ev.describe, "final number of 'response' vs 'answer'")
  local r = result(ev, {response = "She makes 9 * 2 = $18.00.", answer = "#### 18"})
  T.eq(r, {score = 1, status = "ok", reason = "numbers agree",
           detail = {extracted = "18", expected = "18"}})
  r = result(ev, {response = "so 1,234", answer = "A: 1234"})
  T.eq(r.score, 1)
  r = result(ev, {response = "it is 17", answer = "18"})
  T.eq({r.score, r.reason}, {0, "17 differs from 18"})
  r = result(ev, {response = "no idea", answer = "18"})
  T.eq(r, {score = 0, status = "ok", reason = "no number in response", detail = {expected = "18"}})
  r = result(ev, {response = "18", answer = "unknown"})
  T.eq(r, {status = "input_error", reason = "no number in gold field 'answer'"})
  T.eq(result(ev, {response = "18"}).status, "input_error")
  local loose = reference.number{rel_tol = 0.01}
  T.eq(result(loose, {response = "3.14", answer = "3.14159"}).score, 1)
  T.eq(result(ev, {response = "3.14", answer = "3.14159"}).score, 0)
  T.eq(result(ev, {response = "0.75", answer = "3/4"}).score, 1)
end)

T.case("reference.choice", function()
  local ev = reference.choice{}
  T.eq(result(ev, {response = "The answer is (C).", answer = "C"}),
    {score = 1, status = "ok", reason = "choice C is correct",
     detail = {extracted = "C", expected = "C"}})
  T.eq(result(ev, {response = "The answer is (C).", answer = " b "}).reason, "choice C, expected B")
  T.eq(result(ev, {response = "**D**", answer = "The answer is D"}).score, 1)
  T.eq(result(ev, {response = "hmm", answer = "A"}),
    {score = 0, status = "ok", reason = "no choice in response", detail = {expected = "A"}})
  T.eq(result(ev, {response = "A", answer = "E"}),
    {status = "input_error", reason = "no choice letter in gold field 'answer'"})
  local ten = reference.choice{letters = "ABCDEFGHIJ"}
  T.eq(result(ten, {response = "answer: j", answer = "J"}).score, 1)
end)

T.case("reference constructors reject bad options at the caller's line", function()
  raises_here(function() reference.exact{fiel = "response"} end,
    "reference.exact: unknown option 'fiel'")
  raises_here(function() reference.normalized{gold = 3} end,
    "reference.normalized: option 'gold' must be a string, got number")
  raises_here(function() reference.number{field = "a..b"} end,
    "reference.number: option 'field' 'a..b' is not a field name or dotted path")
  raises_here(function() reference.number{rel_tol = -1} end,
    "reference.number: option 'rel_tol' must be a finite number >= 0, got -1")
  raises_here(function() reference.choice{letters = "abc"} end,
    "reference.choice: letters must be distinct capitals A-Z, got 'abc'")
  raises_here(function() reference.exact("response") end,
    "reference.exact: expected an option table, got string")
end)

-------------------------------------------------------------------------------------------
-- rule

T.case("rule.regex match and no_match", function()
  local ev = rule.regex{pattern = "\\bfinal answer\\b", flags = "i"}
  T.eq(ev.kind, "rule.regex")
  local r = result(ev, {response = "My FINAL ANSWER is 4"})
  T.eq(r, {score = 1, status = "ok", reason = "'response' matches the pattern",
           detail = {matched = true, match = "FINAL ANSWER"}})
  r = result(ev, {response = "nothing"})
  T.eq(r, {score = 0, status = "ok", reason = "'response' does not match the pattern",
           detail = {matched = false}})
  local forbid = rule.regex{field = "out.text", pattern = "sorry", expect = "no_match"}
  T.eq(result(forbid, {out = {text = "I am sorry"}}).score, 0)
  T.eq(result(forbid, {out = {text = "Sure"}}).score, 1)
  T.eq(result(forbid, {out = {}}),
    {status = "input_error", reason = "record has no string field 'out.text'"})
end)

T.case("rule.regex clips the shown match to 200 bytes on a UTF-8 boundary", function()
  local ev = rule.regex{pattern = "x+é+"}
  local r = result(ev, {response = string.rep("x", 199) .. "éé"})
  T.eq(r.detail.match, string.rep("x", 199))
  r = result(rule.regex{pattern = "y+"}, {response = string.rep("y", 500)})
  T.eq(#r.detail.match, 200)
end)

T.case("rule.regex abstains on a match error, never raises", function()
  local ev = rule.regex{pattern = "\\w"}
  local r = result(ev, {response = "\255\254 bad utf-8"})
  T.eq(r.status, "abstain")
  T.eq(r.score, nil)
  T.truthy(r.reason:find("BAD_UTF8", 1, true), "reason names the code: " .. r.reason)
end)

T.case("rule.regex rejects bad options and patterns at the caller's line", function()
  raises_here(function() rule.regex{pattern = "a("} end, "rule.regex: bad pattern: ")
  raises_here(function() rule.regex{pattern = "a", expect = "matches"} end,
    "rule.regex: option 'expect' must be \"match\" or \"no_match\", got \"matches\"")
  raises_here(function() rule.regex{patern = "a"} end, "rule.regex: unknown option 'patern'")
  raises_here(function() rule.regex{} end, "rule.regex: missing required option 'pattern'")
end)

T.case("rule.predicate return conventions", function()
  local function pred(v, d) return rule.predicate(function() return v, d end) end
  T.eq(result(pred(true), {}), {score = 1, status = "ok"})
  T.eq(result(pred(false), {}), {score = 0, status = "ok"})
  T.eq(result(pred(0.25, {why = "x"}), {}), {score = 0.25, status = "ok", detail = {why = "x"}})
  local tbl = {status = "abstain", reason = "not applicable"}
  local r = result(pred(tbl), {})
  T.eq(r, tbl)
  T.truthy(r ~= tbl, "the result is a copy")
  T.eq(result(pred({score = 0.5}), {}), {score = 0.5, status = "ok"})
  T.raises(function() result(pred(1.5), {}) end, "rule.predicate: score 1.5 is outside [0, 1]")
  T.raises(function() result(pred(nil), {}) end, "rule.predicate: the function returned nil")
  T.raises(function() result(pred("yes"), {}) end, "the function returned string")
  T.raises(function() result(pred({status = "ok"}), {}) end, "needs a numeric score")
  T.raises(function() result(pred(1, "d"), {}) end, "detail must be a table, got string")
  -- the record and ctx reach the function; errors propagate
  local seen
  local ev = rule.predicate{
    fn = function(rec, c)
      seen = {rec.response, c.skill.name}
      return true
    end,
    describe = "always",
  }
  T.eq(ev.describe, "always")
  result(ev, {response = "hi"})
  T.eq(seen, {"hi", "test"})
  T.raises(function() result(rule.predicate(function() error({code = "ABSTAIN"}) end), {}) end)
  T.truthy(rule.predicate(function() end).describe:find("^predicate .*test_evidence%.lua:%d+$"),
    "default describe names the function's source")
  raises_here(function() rule.predicate{fn = 1} end,
    "rule.predicate: option 'fn' must be a function, got number")
  raises_here(function() rule.predicate("x") end,
    "rule.predicate: expected an option table, got string")
end)

-------------------------------------------------------------------------------------------
-- GSM8K: reference.number agrees with the human labels on every solution

local DATA = "tests/data/gsm8k/example_model_solutions.jsonl"

local function json_decoder()
  local ok, json = pcall(require, "srm.json")
  if ok and type(json) == "table" and type(json.decode) == "function" then return json.decode end
  ok, json = pcall(require, "cjson")
  if ok then return json.decode end
  return nil
end

T.case("reference.number agrees with is_correct on the 5,276 GSM8K solutions", function()
  local f = io.open(DATA, "r")
  if not f then
    io.stderr:write("\n*** SKIPPED: GSM8K agreement test, " .. DATA .. " is missing ***\n\n")
    return
  end
  local decode = json_decoder()
  T.truthy(decode, "a JSON decoder (srm.json or cjson)")
  local ev = reference.number{field = "response", gold = "answer"}
  local models = {"6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification"}
  local total, disagree, first = 0, 0, nil
  for line in f:lines() do
    local row = decode(line)
    for _, m in ipairs(models) do
      local sol = row[m]
      local r = ev.run({response = sol.solution, answer = row.ground_truth}, ctx)
      total = total + 1
      T.eq(r.status, "ok", "status")
      if (r.score == 1) ~= sol.is_correct then
        disagree = disagree + 1
        first = first or string.format("%s: got %s, expected %s (is_correct %s)", m,
          tostring(r.detail.extracted), r.detail.expected, tostring(sol.is_correct))
      end
    end
  end
  f:close()
  T.eq(total, 5276, "solutions")
  T.eq(disagree, 0, "disagreements (first: " .. tostring(first) .. ")")
end)

T.done()
