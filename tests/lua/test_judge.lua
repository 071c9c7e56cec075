-- Judge evidence with canned model replies: parsing, re-ask, pairwise swap and tie rules.
local T = dofile("tests/lua/testlib.lua")
local judge = require "srm.judge"
local llm = require "srm.llm"

-- Runs evidence item `ev` on `record` with the canned replies, as the evaluator would.
local function run(ev, record, canned)
  local usage = {}
  llm.track(coroutine.running(), usage, 1, canned)
  return ev.run(record, {}), usage
end

T.case("parse_score reads JSON, fenced JSON, 'score: N' and 'N/10'; rejects out of range", function()
  T.eq(judge.parse_score('{"score": 7, "reason": "x"}', 1, 10), 7)
  T.eq(judge.parse_score('text ```json\n{"score": 3}\n``` more', 1, 10), 3)
  T.eq(judge.parse_score("Reasoning... Score: 8", 1, 10), 8)
  T.eq(judge.parse_score("I'd give it 9/10.", 1, 10), 9)
  T.eq(judge.parse_score('{"score": 11}', 1, 10), nil)
  T.eq(judge.parse_score("no verdict", 1, 10), nil)
end)

T.case("rubric: normalized score, reason and usage per record", function()
  local ev = judge.rubric { rubric_text = "be right", scale = { 1, 5 } }
  local r, usage = run(ev, { prompt = "q", response = "a" }, { '{"reason": "good", "score": 4}' })
  T.eq(r.status, "ok")
  T.near(r.score, 0.75)
  T.eq(r.reason, "good")
  T.eq(r.detail.verdict, 4)
  T.eq(usage.llm_calls, 1)
end)

T.case("rubric: a failed call is judge_failed with the code", function()
  local ev = judge.rubric { rubric_text = "x" }
  local r = run(ev, { response = "a" }, {})
  T.eq(r.status, "judge_failed")
  T.truthy(r.reason:find("NO_CANNED_REPLY", 1, true), r.reason)
end)

T.case("rubric: missing response field is an input error", function()
  local r = run(judge.rubric { rubric_text = "x" }, { prompt = "q" }, {})
  T.eq(r.status, "input_error")
end)

T.case("pairwise: both orders agree, or disagree into a tie", function()
  local ev = judge.pairwise { field_a = "a", field_b = "b" }
  local r = run(ev, { a = "x", b = "y" }, { '{"winner": "A"}', '{"winner": "B"}' })
  T.eq(r.verdict, "A") -- second order's B flips back to A
  T.eq(r.score, 1)
  r = run(ev, { a = "x", b = "y" }, { '{"winner": "A"}', '{"winner": "A"}' })
  T.eq(r.verdict, "tie")
  T.eq(r.score, 0.5)
  local one = judge.pairwise { field_a = "a", field_b = "b", swap = false }
  r = run(one, { a = "x", b = "y" }, { 'Reasoning. "winner": "B"' })
  T.eq(r.verdict, "B")
  T.eq(r.score, 0)
end)

T.case("listwise: the pick is the verdict, scored against gold; abstains without gold", function()
  local ev = judge.listwise { field = "cands", gold = "label" }
  local r = run(ev, { cands = { "a", "b", "c" }, label = 2 }, { '{"reason": "b is right", "best": 2}' })
  T.eq(r.status, "ok")
  T.eq(r.score, 1)
  T.eq(r.verdict, 2)
  r = run(ev, { cands = { "a", "b", "c" }, label = 3 }, { '{"best": 2}' })
  T.eq(r.score, 0)
  r = run(ev, { cands = { "a", "b" }, label = 1 }, { '{"best": 7}' })
  T.eq(r.status, "judge_failed")
  local nogold = judge.listwise { field = "cands" }
  r = run(nogold, { cands = { "a", "b" } }, { '{"best": 1}' })
  T.eq(r.status, "abstain")
  T.eq(r.verdict, 1)
  T.eq(run(nogold, { cands = { "only one" } }, {}).status, "input_error")
end)

T.case("checklist: k items per call, all calls in one batch, fraction passed", function()
  local ev = judge.checklist { items = { "polite", "cites a source", "under 100 words" }, batch = 2 }
  local r, usage = run(ev, { response = "x" }, {
    '{"results": [{"item": 1, "pass": true}, {"item": 2, "pass": false, "reason": "none"}]}',
    '{"results": [{"item": 3, "pass": true}]}',
  })
  T.eq(r.status, "ok")
  T.near(r.score, 2 / 3)
  T.eq(r.detail.items[2].pass, false)
  T.eq(usage.llm_calls, 2)
  r = run(ev, { response = "x" }, { '{"results": [{"item": 1, "pass": true}]}', '{"results": []}' })
  T.eq(r.status, "judge_failed")
  T.truthy(r.reason:find("item 2", 1, true), r.reason)
  local from_record = judge.checklist { items_field = "checks", batch = 5 }
  r = run(from_record, { response = "x", checks = { "a", "b" } },
    { '{"results": [{"item": 1, "pass": true}, {"item": 2, "pass": true}]}' })
  T.eq(r.score, 1)
  T.raises(function() judge.checklist { items = { "a" }, items_field = "x" } end, "exactly one")
end)

T.case("unknown options raise at the caller's line", function()
  T.raises(function() judge.rubric { rubric_text = "x", scael = { 1, 5 } } end, "unknown option 'scael'")
end)

T.done()
