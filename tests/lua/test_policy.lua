-- srm.policy: aggregation, exclusion of abstain/failed evidence, laziness, constructor errors.
local T = dofile("tests/lua/testlib.lua")
local policy = require "srm.policy"

-- Canned evidence results by name.
local canned = {
  one = {score = 1, status = "ok", reason = "one is right"},
  zero = {score = 0, status = "ok", reason = "zero is wrong"},
  half = {score = 0.5, status = "ok"},
  quarter = {score = 0.25, status = "ok"},
  tenth = {score = 0.1, status = "ok"},
  abst = {status = "abstain", reason = "judge declined"},
  abst2 = {status = "abstain", reason = "no answer"},
  http = {status = "http_error", reason = "HTTP 500"},
  timeout = {status = "timeout", reason = "deadline"},
  broken = {status = "ok", reason = "forgot the score"},
}

-- Evaluates node (or name) against the canned results; returns outcome, env, lookup calls.
local function run(node)
  local calls = {}
  local env = policy.env(function(name)
    calls[#calls + 1] = name
    local r = canned[name]
    if not r then error("unknown evidence " .. name) end
    return r
  end)
  local o = env:eval(node)
  return o, env, calls
end

local function check(o, score, status, decided, excluded, fragment)
  if score == nil then
    T.eq(o.score, nil, "score")
  else
    T.near(o.score, score, 1e-12, "score")
  end
  T.eq(o.status, status, "status")
  T.eq(o.decided, decided, "decided")
  T.eq(o.excluded, excluded, "excluded")
  T.eq(type(o.reason), "string", "reason type")
  if fragment and not o.reason:find(fragment, 1, true) then
    error(string.format("reason %q lacks %q", o.reason, fragment), 2)
  end
end

T.case("a name child gives the evidence's score, status and reason", function()
  check(run("one"), 1, "ok", true, {}, "one is right")
  check(run("abst"), nil, "abstain", false, {"abst"}, "judge declined")
  check(run("http"), nil, "http_error", false, {"http"}, "HTTP 500")
  check(run("half"), 0.5, "ok", true, {}, "half scored 0.5")
  check(run("broken"), nil, "skill_error", false, {"broken"}, "status ok but score nil")
  check(run(policy.of("zero")), 0, "ok", true, {}, "zero is wrong")
end)

T.case("env memoizes lookups and records first-evaluation order", function()
  local o, env, calls = run(policy.mean{"half", "one", "half", policy.max{"one", "zero"}})
  check(o, (0.5 + 1 + 0.5 + 1) / 4, "ok", true, {}, "mean 0.75")
  T.eq(calls, {"half", "one", "zero"})
  T.eq(env.order, {"half", "one", "zero"})
end)

T.case("weighted: positive weights normalise over the evidence that counts", function()
  check(run(policy.weighted{one = 1, zero = 3}), 0.25, "ok", true, {}, "weighted 0.25")
  check(run(policy.weighted{one = 1, half = 1}), 0.75, "ok", true, {})
end)

T.case("weighted: abstain is excluded, not counted as 0", function()
  local o = run(policy.weighted{one = 1, abst = 1})
  check(o, 1, "ok", true, {"abst"}, "excluded abst (abstain)")
  check(run(policy.weighted{one = 1, http = 5}), 1, "ok", true, {"http"}, "http (http_error)")
end)

T.case("weighted: negative weights are unnormalised penalties", function()
  check(run(policy.weighted{one = 2, half = 2, quarter = -0.4}), 0.75 - 0.1, "ok", true, {},
    "penalty -0.1")
  -- a penalty whose evidence abstains is simply excluded
  check(run(policy.weighted{one = 1, abst = -1}), 1, "ok", true, {"abst"})
  -- penalties alone decide nothing
  check(run(policy.weighted{abst = 1, one = -1}), nil, "abstain", false, {"abst"},
    "no positive-weight evidence counted")
end)

T.case("weighted: all excluded gives nil score and the first failure status", function()
  check(run(policy.weighted{abst = 1, http = 1, timeout = 1}), nil, "http_error", false,
    {"abst", "http", "timeout"})
  check(run(policy.weighted{abst = 1, abst2 = 2}), nil, "abstain", false, {"abst", "abst2"})
end)

T.case("weighted: sorted name order, zero weights skipped, pair form and nesting", function()
  local _, env = run(policy.weighted{zero = 1, one = 1, half = 0, abst = 1})
  T.eq(env.order, {"abst", "one", "zero"})
  local nested = policy.weighted{{policy.min{"one", "half"}, 3}, {"zero", 1}, {"abst", 2}}
  local o, env2 = run(nested)
  check(o, (3 * 0.5 + 0) / 4, "ok", true, {"abst"}, "policy.min")
  T.eq(env2.order, {"one", "half", "zero", "abst"})
  T.eq(nested:names(), {"one", "half", "zero", "abst"})
  -- excluded names propagate up through nested nodes
  check(run(policy.weighted{{policy.mean{"half", "abst", "http"}, 1}, {"one", 1}}),
    0.75, "ok", true, {"abst", "http"})
end)

T.case("mean, min, max exclude what does not count", function()
  check(run(policy.mean{"one", "zero", "abst"}), 0.5, "ok", true, {"abst"},
    "mean 0.5 over one, zero")
  check(run(policy.min{"one", "quarter", "http"}), 0.25, "ok", true, {"http"}, "min 0.25")
  check(run(policy.max{"zero", "quarter", "abst"}), 0.25, "ok", true, {"abst"}, "max 0.25")
  check(run(policy.mean{"abst", "abst2"}), nil, "abstain", false, {"abst", "abst2"},
    "no child counted")
  check(run(policy.max{"abst", "timeout", "http"}), nil, "timeout", false,
    {"abst", "timeout", "http"})
end)

T.case("vote: majority over the children that count, tie score", function()
  check(run(policy.vote{"one", "half", "zero"}), 1, "ok", true, {}, "2 pass, 1 fail")
  check(run(policy.vote{"one", "zero", "tenth"}), 0, "ok", true, {}, "1 pass, 2 fail")
  check(run(policy.vote{"one", "zero", "abst"}), 0.5, "ok", true, {"abst"}, "1 pass, 1 fail")
  check(run(policy.vote{"one", "zero", tie = 0.3}), 0.3, "ok", true, {})
  check(run(policy.vote{"half", "quarter", threshold = 0.6}), 0, "ok", true, {})
  check(run(policy.vote{"abst", "http"}), nil, "http_error", false, {"abst", "http"})
end)

T.case("threshold", function()
  check(run(policy.threshold{"half"}), 1, "ok", true, {}, "0.5 >= 0.5")
  check(run(policy.threshold{"quarter", at = 0.3, above = 0.9, below = 0.2}), 0.2, "ok", true, {},
    "0.25 < 0.3")
  check(run(policy.threshold{"abst"}), nil, "abstain", false, {"abst"}, "did not count")
end)

T.case("veto fires below its bar, fails closed on a failed check, otherwise decides nothing", function()
  check(run(policy.veto("zero")), 0, "ok", true, {}, "vetoed by zero: zero is wrong")
  check(run(policy.veto("half", {below = 0.6, score = 0.1})), 0.1, "ok", true, {}, "vetoed by half")
  check(run(policy.veto("one")), nil, "ok", false, {}, "did not fire")
  check(run(policy.veto("abst")), nil, "ok", false, {"abst"}, "did not fire")
  -- A gate that could not be checked must not let the record through.
  check(run(policy.veto("http")), nil, "http_error", true, {"http"}, "could not be checked")
  local g = run(policy.cascade{policy.veto("http"), policy.decide("one")})
  check(g, nil, "http_error", true, {"http"}, "could not be checked")
end)

T.case("decide", function()
  check(run(policy.decide("quarter")), 0.25, "ok", true, {})
  check(run(policy.decide("timeout")), nil, "timeout", false, {"timeout"})
  check(run(policy.decide(policy.veto("one"))), nil, "ok", false, {})
end)

T.case("cascade is lazy: later stages never run once one decides", function()
  local c = policy.cascade{policy.veto("zero"), policy.weighted{one = 1, half = 1}}
  local o, env, calls = run(c)
  check(o, 0, "ok", true, {}, "stage 1 (policy.veto) decided: vetoed by zero")
  T.eq(#calls, 1, "lookups")
  T.eq(env.order, {"zero"})
  T.eq(c:names(), {"zero", "half", "one"}) -- weighted names go in sorted order
end)

T.case("cascade falls through undecided stages", function()
  local c = policy.cascade{policy.veto("one"), policy.decide("abst"), policy.mean{"half", "http"}}
  local o, _, calls = run(c)
  check(o, 0.5, "ok", true, {"abst", "http"}, "stage 3 (policy.mean) decided")
  T.eq(calls, {"one", "abst", "half", "http"})
  check(run(policy.cascade{policy.veto("one"), policy.decide("abst")}), nil, "abstain", false,
    {"abst"}, "no stage of the cascade decided")
end)

T.case("gate = cascade{veto, then}", function()
  local g = policy.gate("zero", policy.weighted{one = 1})
  local o, _, calls = run(g)
  check(o, 0, "ok", true, {}, "vetoed by zero")
  T.eq(calls, {"zero"})
  check(run(policy.gate("one", "half")), 0.5, "ok", true, {}, "stage 2 (half) decided")
  check(run(policy.gate("quarter", "one", {below = 0.5, score = 0.05})), 0.05, "ok", true, {})
  T.eq(g.kind, "policy.gate")
end)

T.case("describe renders the plan", function()
  local p = policy.gate("format", policy.weighted{answer = 2, style = 1, length = -0.5})
  local text = p:describe("")
  T.eq(text, table.concat({
    "cascade (the first stage that decides gives the score):",
    "  stage 1:",
    "    veto (score 0 when below 1):",
    "      format",
    "  stage 2:",
    "    weighted mean (negative weights are penalties):",
    "      2 x answer",
    "      -0.5 x length",
    "      1 x style",
  }, "\n"))
  T.eq(policy.mean{"a", "b"}:describe(2), "  mean of:\n    a\n    b")
  T.eq(policy.of("x"):describe(">"), ">x")
end)

T.case("outcomes are fresh tables: mutating one does not affect the next evaluation", function()
  local node = policy.mean{"one", "abst"}
  local o1 = run(node)
  o1.excluded[1] = "tampered"
  local o2 = run(node)
  T.eq(o2.excluded, {"abst"})
end)

local here = "test_policy.lua:"

T.case("bad constructor arguments raise at the caller's line", function()
  local function raises_here(fn, fragment)
    local err = T.raises(fn, fragment)
    T.truthy(tostring(err):find(here, 1, true),
      "message has the caller's position: " .. tostring(err))
  end
  raises_here(function() policy.weighted{one = "x"} end,
    "policy.weighted: weight of 'one' must be a finite number, got string")
  raises_here(function() policy.weighted{one = 0 / 0} end, "must be a finite number, got")
  raises_here(function() policy.weighted{one = -1} end, "needs at least one positive weight")
  raises_here(function() policy.weighted{} end, "no evidence to weigh")
  raises_here(function() policy.weighted{{"one"}} end,
    "policy.weighted: entry #1 must be a finite number, got nil")
  raises_here(function() policy.weighted{"one"} end,
    "policy.weighted: entry #1 must be {evidence_name_or_policy, weight}")
  raises_here(function() policy.weighted{{42, 1}} end,
    "policy.weighted: entry #1 must be an evidence name or a policy, got number")
  raises_here(function() policy.weighted(nil) end, "expected a table of weights, got nil")
  raises_here(function() policy.mean{} end, "policy.mean: needs at least one child")
  raises_here(function() policy.mean{"a", 3} end,
    "policy.mean: argument #2 must be a string or table, got number")
  raises_here(function() policy.min{"a", {}} end,
    "policy.min: child #2 must be an evidence name or a policy, got a table that is not a policy")
  raises_here(function() policy.max{"a", thresold = 1} end, "policy.max: unknown option 'thresold'")
  raises_here(function() policy.vote{"a", thresold = 0.5} end,
    "policy.vote: unknown option 'thresold'")
  raises_here(function() policy.vote{"a", tie = "x"} end,
    "policy.vote: option 'tie' must be a number, got string")
  raises_here(function() policy.threshold{"a", "b"} end,
    "policy.threshold: needs exactly one child, got 2")
  raises_here(function() policy.threshold{"a", at = true} end,
    "policy.threshold: option 'at' must be a number, got boolean")
  raises_here(function() policy.veto(5) end, "policy.veto: argument #1 must be an evidence name")
  raises_here(function() policy.veto("a", {blow = 1}) end, "policy.veto: unknown option 'blow'")
  raises_here(function() policy.decide("") end,
    "policy.decide: argument #1 is an empty evidence name")
  raises_here(function() policy.cascade{} end, "policy.cascade: needs at least one child")
  raises_here(function() policy.gate("a", nil) end,
    "policy.gate: argument #2 must be an evidence name")
  raises_here(function() policy.gate("a", "b", {score = "0"}) end,
    "policy.veto: option 'score' must be a number, got string")
  raises_here(function() policy.of(7) end, "policy.of: argument #1 must be an evidence name")
  raises_here(function() policy.env("f") end,
    "policy.env: argument #1 must be a function, got string")
end)

T.case("a lookup that returns no table raises", function()
  local env = policy.env(function() return nil end)
  T.raises(function() env:eval("x") end, "policy: evidence 'x' gave nil, expected a result table")
end)

T.done()
