-- The agent judge offline, with canned model replies (srm.llm's self-test path): modes, the
-- readout, settings, budgets, resource cards and their validation, the sanitizer and the
-- plain-text verdict parser. The mock-driven acceptance checks are in test_agent_mock.lua.
local T = dofile("tests/lua/testlib.lua")
local srm = require "srm"
local json = require "srm.json"
local evaluate = require "srm.evaluate"
local resources = require "srm.resources"
local agent = require "srm.agent"
local trace = require "srm.trace"

local CTX = { settings = {}, skill = { name = "rj", dir = "." } }

local function tc(name, args)
  return { id = "c_" .. name, type = "function",
    ["function"] = { name = name, arguments = type(args) == "string" and args or json.encode(args) } }
end
local function calls(...) return { tool_calls = { ... } } end
local function final(v) return calls(tc("final_answer", { verdict = v, reason = "because" })) end

local function skill_with(opts, decl)
  local node = { mode = "pairwise", instructions_text = "Guidance." }
  for k, v in pairs(opts or {}) do node[k] = v end
  local d = {
    name = "rj", description = "a judge",
    evidence = { exact = srm.reference.exact { field = "response", gold = "reference" } },
    resources = {
      { id = "rubric", type = "rubric", text = "0123456789abcdefghij" },
      { id = "ref_check", type = "verifier", evidence = "exact", hard_or_soft = "hard", visible = "reference" },
      { id = "only_fair", type = "principle", text = "fair", settings = { "skill_fair" } },
    },
    policy = srm.policy.agent(node),
  }
  for k, v in pairs(decl or {}) do d[k] = v end
  return srm.skill(d)
end

-- Runs a record with canned replies and captures the trace entry.
local trace_path = os.tmpname()
local function run(skill, record, canned, ctx)
  assert(trace.open(trace_path))
  local r = evaluate.evaluate(skill, record, ctx or CTX, canned)
  trace.close()
  local f = assert(io.open(trace_path, "rb"))
  local lines = {}
  for line in f:lines() do lines[#lines + 1] = json.decode(line) end
  f:close()
  os.remove(trace_path)
  return r, lines[#lines] and lines[#lines].trace
end

local PAIR = { prompt = "2+2?", response_a = "4", response_b = "5", reference = "4" }

T.case("readout: a decisive hard verifier overrides a contrary verdict and says so", function()
  local r = run(skill_with(), PAIR, { final("B"), final("A") }) -- order 2's A is B
  T.eq({ r.status, r.verdict, r.score }, { "ok", "A", 1 })
  local ro = r.components.agent.detail.readout
  T.eq({ ro.decision, ro.by, ro.from, ro.to }, { "overridden", "ref_check", "B", "A" })
  T.eq(ro.scores, { A = 1, B = 0 })
  T.truthy(r.reason:find("readout overrode B with hard evidence from ref_check", 1, true), r.reason)
  -- inconclusive evidence (both wrong) keeps the verdict
  r = run(skill_with(), { prompt = "2+2?", response_a = "3", response_b = "5", reference = "4" },
    { final("B"), final("A") })
  T.eq({ r.verdict, r.components.agent.detail.readout.decision }, { "B", "kept" })
  -- readout = false
  r = run(skill_with { readout = false }, PAIR, { final("B"), final("A") })
  T.eq({ r.verdict, r.components.agent.detail.readout.decision }, { "B", "off" })
  -- a readout function
  r = run(skill_with { readout = function(info)
    if info.hard.ref_check[2].score == 0 then return { verdict = "tie", reason = "custom" } end
  end }, PAIR, { final("A"), final("B") })
  T.eq({ r.verdict, r.components.agent.detail.readout.by }, { "tie", "readout function" })
end)

T.case("pointwise: score from final_answer, normalized; the readout vetoes a high score", function()
  local skill = skill_with { mode = "pointwise", scale = { 1, 5 } }
  local r = run(skill, { prompt = "q", response = "fine" },
    { calls(tc("final_answer", { score = 4, reason = "good" })) })
  T.eq({ r.status, r.score, r.verdict }, { "ok", 0.75, nil })
  T.eq(r.components.agent.detail.score, 4)
  r = run(skill, { prompt = "q", response = "wrong", reference = "right" },
    { calls(tc("final_answer", { score = 5, reason = "great" })) })
  T.eq({ r.score, r.components.agent.detail.readout.decision }, { 0, "overridden" })
  r = run(skill, { prompt = "q", response = "x" }, { calls(tc("final_answer", { score = 9 })), "Score: 2" })
  T.eq({ r.score, r.components.agent.detail.orders[1].path }, { 0.25, "content" })
  r = run(skill_with { mode = "pointwise", scale = { 1, 5 }, max_turns = 1 }, { prompt = "q", response = "x" },
    { "no verdict", calls(tc("final_answer", { score = 0 })), "Score: 5" })
  T.eq({ r.score, r.components.agent.detail.orders[1].path }, { 1, "plain_retry" })
end)

T.case("scaled: both orders flipped back; disagreement is A=B", function()
  local skill = skill_with { mode = "scaled", readout = false }
  local r = run(skill, PAIR, { final("A>>B"), final("B>>A") })
  T.eq({ r.verdict, r.score }, { "A>>B", 1 })
  r = run(skill, PAIR, { final("A>B"), final("A>B") })
  T.eq({ r.verdict, r.score }, { "A=B", 0.5 })
end)

T.case("listwise: letters A-N, the pick is an index, scored against gold or abstaining", function()
  local skill = skill_with { mode = "listwise", gold = "best_index", readout = false }
  local rec = { prompt = "p", responses = { "x", "y", "z" }, best_index = 3 }
  local r = run(skill, rec, { final("C") })
  T.eq({ r.status, r.verdict, r.score }, { "ok", 3, 1 })
  r = run(skill, rec, { final("D"), "[[B]]" })
  T.eq({ r.verdict, r.score, r.components.agent.detail.orders[1].path }, { 2, 0, "content" })
  r = run(skill_with { mode = "listwise", gold = "best_index", max_turns = 1 }, rec,
    { calls(tc("use_skill", { name = "rj" })), final("B") })
  T.eq({ r.verdict, r.components.agent.detail.orders[1].path }, { 2, "forced_final" })
  r = run(skill_with { mode = "listwise" }, rec, { final("A") })
  T.eq({ r.status, r.verdict }, { "abstain", 1 })
  T.eq(run(skill, { responses = { "only" } }, {}).status, "input_error")
end)

T.case("settings: baseline is a direct judge; skill_fair hides per-record resources", function()
  local r, tr = run(skill_with { setting = "baseline", swap = false }, PAIR, { "I think [[B]] wins. [[A]]" })
  T.eq({ r.verdict, r.components.agent.detail.orders[1].path }, { "A", "direct_judge" })
  T.eq(#tr.orders[1].direct, 2)
  r, tr = run(skill_with { setting = "skill_fair", swap = false, readout = false }, PAIR,
    { calls(tc("use_skill", { name = "rj" })), final("A") })
  local ids = {}
  for _, x in ipairs(tr.orders[1].turns[1].calls[1].result.resources) do ids[#ids + 1] = x.id end
  T.eq(ids, { "rubric", "ref_check", "only_fair" })
  r, tr = run(skill_with { swap = false, readout = false }, PAIR,
    { calls(tc("use_skill", { name = "rj" })), final("A") })
  ids = {}
  for _, x in ipairs(tr.orders[1].turns[1].calls[1].result.resources) do ids[#ids + 1] = x.id end
  T.eq(ids, { "rubric", "ref_check", "reference" }, "operational: record reference, no skill_fair card")
  -- --set setting=... through the skill's settings
  r = run(skill_with { swap = false }, PAIR, { "[[B]]" }, { settings = { setting = "baseline" } })
  T.eq(r.components.agent.detail.setting, "baseline")
  -- tool_only offers only the sandbox tools; flat_prompt puts the resources in the prompt
  r, tr = run(skill_with { setting = "tool_only", swap = false }, PAIR, { calls(tc("use_skill", { name = "rj" })), final("A") })
  T.truthy(tr.orders[1].turns[1].calls[1].result.error:find("unknown tool 'use_skill'", 1, true))
  r, tr = run(skill_with { setting = "flat_prompt", swap = false }, PAIR, { final("A") })
  T.truthy(tr.orders[1].turns[1].sent[2].content:find("0123456789abcdefghij", 1, true), "rubric in the prompt")
end)

T.case("budgets: distinct views, runs, characters per view with truncation and paging", function()
  local skill = skill_with { swap = false, max_views = 1, max_runs = 1, max_view_chars = 8, readout = false }
  local r, tr = run(skill, PAIR, {
    calls(tc("view_resource", { id = "rubric" })),
    calls(tc("use_skill", { name = "rj" })),
    calls(tc("view_resource", { id = "rubric" }), tc("view_resource", { id = "rubric", offset = 8 }),
      tc("view_resource", { id = "ref_check" })),
    calls(tc("run_resource", { id = "ref_check" }), tc("run_resource", { id = "ref_check", candidate = "B" }),
      tc("run_resource", { id = "rubric" })),
    final("A"),
  })
  T.eq(r.status, "ok", r.reason)
  local turns = tr.orders[1].turns
  T.eq(turns[1].calls[1].result.error, "load the skill first: call use_skill")
  local v = turns[3].calls
  T.eq({ v[1].result.content, v[1].result.truncated, v[1].result.next_offset, v[1].result.total_chars },
    { "01234567", true, 8, 20 })
  T.eq({ v[2].result.content, v[2].result.offset }, { "89abcdef", 8 }, "paging the same resource is free")
  T.truthy(v[3].result.error:find("view budget exhausted", 1, true), v[3].result.error)
  local x = turns[4].calls
  T.eq(x[1].result.results.A.score, 1)
  T.eq(x[1].result.results.B.score, 0)
  T.truthy(x[2].result.error:find("run budget exhausted", 1, true))
  T.eq(x[3].result.error, "resource 'rubric' cannot be run; view it")
  T.eq(r.components.agent.detail.orders[1].views, 1)
  T.eq(r.components.agent.detail.orders[1].runs, 1)
end)

T.case("run_lua in a fresh box with the texts preloaded; runaway code is stopped", function()
  local skill = skill_with { swap = false, readout = false, lua_instructions = 100000 }
  local _, tr = run(skill, PAIR, {
    calls(tc("run_lua", { code = "print(#RESPONSES.A, PROMPT) return {a = RESPONSES.A, b = RESPONSES.B}" }),
      tc("run_lua", { code = "while true do end" }), tc("run_lua", { code = "return io.open" })),
    final("A"),
  })
  local c = tr.orders[1].turns[1].calls
  T.eq({ c[1].result.status, c[1].result.output, c[1].result.result }, { "ok", "1\t2+2?\n", { a = "4", b = "5" } })
  T.eq(c[2].result.status, "instructions")
  T.eq(c[3].result.status, "error")
end)

T.case("malformed final_answer is an error to the model; a reply's text verdict counts", function()
  local _, tr = run(skill_with { swap = false, readout = false }, PAIR, {
    calls(tc("final_answer", { verdict = "maybe" })), calls(tc("final_answer", "{oops")),
    { content = 'Done. {"verdict": "B"}' },
  })
  local t = tr.orders[1].turns
  T.truthy(t[1].calls[1].result.error:find("final_answer rejected", 1, true))
  T.truthy(t[2].calls[1].result.error:find("malformed arguments for final_answer", 1, true))
  T.eq({ tr.orders[1].path, tr.verdict }, { "content", "B" })
end)

T.case("resource cards are validated at load; existing skills stay valid", function()
  local ev = { e = function() return 1 end }
  local function bad(res, msg)
    T.raises(function() srm.skill { name = "x", evidence = ev, policy = "e", resources = res } end, msg)
  end
  bad({ { id = "a", type = "nope", text = "x" } }, "unknown type 'nope'")
  bad({ { id = "a", type = "rubric", text = "x" }, { id = "a", type = "rubric", text = "y" } }, "declared twice")
  bad({ { id = "a", type = "rubric", text = "x", fn = print } }, "give one body")
  bad({ { id = "a", type = "rubric" } }, "needs a body")
  bad({ { id = "a", type = "verifier", evidence = "missing" } }, "no evidence named 'missing'")
  bad({ { id = "a", type = "rubric", text = "x", settings = { "skill_unfair" } } }, "unknown setting")
  bad({ { id = "a b", type = "rubric", text = "x" } }, "needs an id")
  bad({ { id = "a", type = "rubric", text = "x", colour = 1 } }, "unknown option 'colour'")
  bad({ a = { id = "b", type = "rubric", text = "x" } }, "differs from its key")
  local s = srm.skill { name = "x", evidence = ev, policy = "e",
    resources = { r = { type = "rubric", text = "t" }, c = { type = "checklist", text = "u" } } }
  T.eq({ s.resources[1].id, s.resources[2].id }, { "c", "r" })
  T.eq(#srm.skill { name = "plain", evidence = ev, policy = "e" }.resources, 0)
  T.raises(function()
    srm.skill { name = "x", evidence = {}, policy = srm.policy.agent {},
      resources = { { id = "g", type = "reference", field = "gold" } } }
  end, "blocked record key 'gold'")
  T.raises(function() srm.policy.agent { mode = "ranked" } end, "mode must be")
  T.raises(function() srm.policy.agent { max_turns = 0 } end, "at least 1")
  T.raises(function() srm.policy.agent { tols = {} } end, "unknown option 'tols'")
  T.raises(function() srm.skill { name = "x", evidence = { agent = ev.e }, policy = srm.policy.agent {} } end,
    "also the name of the policy's own item")
end)

T.case("sanitizer: blocked keys by name, prefix and suffix, at any depth", function()
  local set = resources.blocked_set()
  for _, k in ipairs { "chosen", "Label", "gold_answer", "chosen_model", "is_correct", "answer_key",
    "gold_answer_key", "bench", "WINNER", "score" } do
    T.truthy(resources.is_blocked(set, k), k)
  end
  for _, k in ipairs { "reference", "prompt", "answer", "source", "category", "scorer_notes" } do
    T.eq(resources.is_blocked(set, k), false, k)
  end
  local clean = resources.sanitize({ a = 1, label = 2, list = { { gold = 3, ok = 4 } }, meta = { winner = "x", y = "z" } }, set)
  T.eq(clean, { a = 1, list = { { ok = 4 } }, meta = { y = "z" } })
  T.truthy(json.is_array(clean.list))
  local custom = resources.blocked_set { "secret" }
  T.eq(resources.sanitize({ secret = 1, label = 2 }, custom), { label = 2 })
end)

T.case("plain-text verdicts: brackets (last wins), think blocks, JSON keys, Final lines", function()
  local P = agent.parse_text
  local rows = {
    { "pairwise", "Both fine. [[A]] ... on reflection [[B]]", "B" },
    { "pairwise", "<think>[[A]] is better</think>The answer is [[B]]", "B" },
    { "pairwise", "reasoning </think> final: [[A]]", "A" },
    { "pairwise", "<think>never closed [[A]]", nil },
    { "pairwise", '{"reason": "x", "winner": "b"}', "B" },
    { "pairwise", "Final verdict: **Tie**", "tie" },
    { "pairwise", "[[C]]", "tie" },
    { "pairwise", "no verdict here", nil },
    { "scaled", "I rate it [[A>>B]]", "A>>B" },
    { "scaled", "Verdict: B > A", "B>A" },
    { "listwise", "The best is [[C]]", 3 },
    { "listwise", '{"best": 2}', 2 },
    { "listwise", "[[Z]]", nil },
    { "pointwise", "Score: 7", 7 },
    { "pointwise", "Score: 70", nil },
    { "pointwise", '{"score": 3.5}', 3.5 },
  }
  for i, row in ipairs(rows) do
    T.eq(P(row[1], row[2], 3, { 1, 10 }), row[3], "row " .. i .. ": " .. row[2])
  end
  T.eq(P("pairwise", string.rep("[", 100000) .. "[[A]]", 2, { 1, 10 }), "A", "long input")
  T.eq(P("pairwise", "\xff\xfe [[B]]", 2, { 1, 10 }), "B", "invalid UTF-8")
end)

T.case("shipped skills load; rubric_judge's weighting tool is exact", function()
  local runner = require "srm.runner"
  for _, name in ipairs { "reward_judge", "instruction_following", "rubric_judge", "math_judge" } do
    local sk, err = runner.load("skills/" .. name .. "/main.lua")
    T.truthy(sk, name .. ": " .. tostring(err))
    T.truthy(#sk.resources >= 1, name .. " declares resources")
  end
  local sk = runner.load("skills/rubric_judge/main.lua")
  local _, tr = run(sk, { prompt = "q", response = "r" }, {
    calls(tc("run_resource", { id = "weighted_score", args = { ratings = { accuracy = 5, relevance = 5,
      clarity = 4, fabrication = 5 } } })),
    calls(tc("run_resource", { id = "weighted_score", args = { ratings = { accuracy = 9 } } })),
    calls(tc("final_answer", { score = 6, reason = "x" })) }, sk.ctx)
  local t = tr.orders[1].turns
  T.truthy(t[1].calls[1].result.error, "run_resource before use_skill is refused")
  _, tr = run(sk, { prompt = "q", response = "r" }, {
    calls(tc("use_skill", { name = "rubric_judge" })),
    calls(tc("run_resource", { id = "weighted_score", args = { ratings = { accuracy = 5, relevance = 5,
      clarity = 4, fabrication = 5 } } }), tc("run_resource", { id = "weighted_score", args = { ratings = { accuracy = 9 } } })),
    calls(tc("final_answer", { score = 6, reason = "x" })) }, sk.ctx)
  t = tr.orders[1].turns
  T.near(t[2].calls[1].result.results.response.score, (5.75 - 2) / 6) -- (3+2+0.75 - 2) / 6
  T.eq(t[2].calls[2].result.results.response.status, "input_error")
end)

T.done()
