-- srm.math (runtime/lsrm_math.c) and reference.math (stdlib/srm/math_evidence.lua): the Lua
-- API, its return conventions and option checking, as tables of {input, expected} rows.
local T = dofile("tests/lua/testlib.lua")
local smath = require "srm.math"
local reference = require "srm.reference"

T.case("math.extract", function()
  local rows = {
    { "The answer is $\\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}" },
    { "\\boxed{1} and \\boxed{2}", "1, 2" },
    { "Final Answer: The final answer is $(0, 1)$. I hope it is correct.", "(0, 1)" },
    { "16 - 3 - 4 = 9\n#### 9", "9" },
    { "She makes $18 every day.\nA: 18", "18" },
    { "Answer: (C)", "C" },
    { "the result: 7,425,000", "7425000" },
    { "0.5", "0.5" },
    { "\\sqrt{3}", "\\sqrt{3}" },
  }
  for _, r in ipairs(rows) do T.eq(smath.extract(r[1]), r[2], r[1]) end
  local none, why = smath.extract("no numbers here")
  T.eq(none, nil, "nothing to extract")
  T.eq(why, "no answer found", "reason")
  T.eq(smath.extract("Answer $ \n 9 \n $", { targets = { "latex" } }), nil, "latex only")
  T.eq(smath.extract("2,74 $", { targets = { "expr" } }), "2.74", "expr only")
end)

T.case("math.equal", function()
  local rows = {
    { "\\frac{1}{2}", "0.5", true, "rounded" },
    { "\\frac{1}{2}", "2/4", true, "value" },
    { "\\sqrt{8}", "2\\sqrt{2}", true, "value" },
    { "(x+1)^2", "x^2+2x+1", true, "numeric" },
    { "[0, 1)", "(0, 1)", false, "interval" },
    { "\\{1, 2\\}", "\\{2, 1\\}", true, "set" },
    { "(1, 2)", "(2, 1)", false, "tuple" },
    { "5", "x = 5", true, "identical" },
    { "x > 5", "5 < x", true, "relation" },
    { "\\text{Evelyn}", "Evelyn", true, "symbol" },
    { "28\\%", "28", true, "percent" },
    { "1", "1, 2", false, "set" },
  }
  for _, r in ipairs(rows) do
    local eq, d = smath.equal(r[1], r[2])
    T.eq(eq, r[3], r[1] .. " vs " .. r[2])
    T.eq(d.how, r[4], "how for " .. r[1] .. " vs " .. r[2])
    if not eq then T.truthy(d.reason, "a reason when not equal") end
  end
  local eq, d = smath.equal("\\frac{", "2")
  T.eq(eq, false, "unparsable gold")
  T.eq(d.gold_parsed, false, "gold_parsed")
  T.eq(d.reason, "gold not parsed: empty expression", "reason")
  eq, d = smath.equal(string.rep("(", 3000) .. "1" .. string.rep(")", 3000), "1")
  T.eq({ eq, d.limit, d.how }, { false, true, "limit" }, "limit")
end)

T.case("math.equal options", function()
  T.eq(smath.equal("f(x)", "f(y)"), false, "strict by default")
  T.eq(smath.equal("f(x)", "f(y)", { strict = false }), true, "non-strict")
  T.eq(smath.equal("10, 4, -2", "4, 10, -2"), true, "lists are sets")
  T.eq(smath.equal("10, 4, -2", "4, 10, -2", { ordered = true }), false, "ordered lists")
  T.eq(smath.equal("3.14159", "\\pi", { precision = 2 }), true, "precision 2")
  T.eq(smath.equal("3.14159", "\\pi", { precision = 6 }), false, "precision 6")
  T.eq(smath.equal("[-2, 7]", "-2 \\le x \\le 7"), false, "set vs relation")
  T.eq(smath.equal("[-2, 7]", "-2 \\le x \\le 7", { set_relation = true }), true, "set_relation")
  T.raises(function() smath.equal("1", "1", { precison = 2 }) end,
    "math.equal: unknown option 'precison'")
  T.raises(function() smath.equal("1", "1", { precision = 99 }) end, "must be in 0..15")
  T.raises(function() smath.equal("1", "1", { strict = "yes" }) end, "must be a boolean")
  T.raises(function() smath.extract("1", { targets = { "tex" } }) end, "\"latex\" or \"expr\"")
  T.raises(function() smath.equal(nil, "1") end, "bad argument #1")
end)

T.case("math.parse", function()
  T.eq(smath.parse("\\dfrac{1}{2} + \\sqrt3"), "1/2 + sqrt(3)", "normalized")
  T.eq(smath.parse("x \\in \\left[ 0, \\infty \\right)"), "x  in  [0, oo)", "interval")
  T.eq({ smath.parse("\\frac{1}{2") }, { nil, "unbalanced braces", "PARSE" }, "syntax error")
  T.eq({ smath.parse(string.rep("{", 200) .. "1" .. string.rep("}", 200)) },
    { nil, "nesting too deep", "LIMIT" }, "limit")
end)

local function run(ev, record)
  return ev.run(record, {})
end

T.case("reference.math", function()
  local ev = reference.math {}
  T.eq(ev.kind, "reference.math", "kind")
  local r = run(ev, { response = "so it is $\\boxed{\\frac{1}{2}}$", answer = "0.5" })
  T.eq(r.score, 1, "score")
  T.eq(r.status, "ok", "status")
  T.eq(r.detail, { extracted = "\\frac{1}{2}", expected = "0.5", how = "rounded" }, "detail")
  r = run(ev, { response = "it is 3", answer = "\\frac{1}{2}" })
  T.eq({ r.score, r.detail.extracted }, { 0, "3" }, "wrong answer")
  T.eq(r.reason, "3 differs from \\frac{1}{2} (not equal (value comparison))", "reason")
  r = run(ev, { response = "I do not know", answer = "5" })
  T.eq({ r.score, r.status, r.reason }, { 0, "ok", "no answer in response (no answer found)" },
    "no answer")
  r = run(ev, { response = "5", answer = "\\frac{" })
  T.eq(r.status, "input_error", "unparsable gold")
  r = run(ev, { response = "5", answer = "   " })
  T.eq({ r.status, r.reason }, { "input_error", "gold field 'answer' is empty" }, "empty gold")
  r = run(ev, { response = "5" })
  T.eq(r.status, "input_error", "missing gold")
  -- a worked solution as gold: its answer is extracted
  r = run(ev, { response = "A: 18", answer = "9 * 2 = 18\n#### 18" })
  T.eq(r.score, 1, "GSM8K gold")
  local ord = reference.math { field = "out", gold = "ref", ordered = true }
  T.eq(run(ord, { out = "\\boxed{2, 1}", ref = "1, 2" }).score, 0, "ordered option passed on")
  T.raises(function() reference.math { precison = 2 } end, "reference.math: unknown option")
  T.raises(function() reference.math { precision = 99 } end,
    "reference.math: option 'precision' must be in 0..15")
end)

T.done()
