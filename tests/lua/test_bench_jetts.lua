-- JETTS reranking: seeded candidate/display orders, the sequential knockout SeqKO@k and the
-- pass@1 / random@10 / oracle@10 / majority@10 references, on tests/data/bench/jetts_sample.jsonl.
local T = dofile("tests/lua/testlib.lua")
local E = require "srm.bench.eval"
local C = require "srm.bench.common"

local items = C.read_records("tests/data/bench/jetts_sample.jsonl")

T.case("all pairs, each in a seeded display order; the candidate order is pinned by the seed", function()
  local t = E.expand_records("jetts", items, { seed = 3 })
  T.eq(#t, 6 + 3, "C(4,2) + C(3,2)")
  T.eq(t[1].id, "q1:1-2", "id from query.metadata.id")
  T.eq(t[7].id, "q2:1-2", "id from the record")
  T.eq(t[1].bench.order, { 4, 1, 2, 3 }, "q1 candidate order, seed 3")
  T.eq(t[7].bench.order, { 1, 3, 2 }, "q2 candidate order, seed 3")
  T.eq({ t[3].bench.first, t[3].response_A }, { 4, "r4" }, "q1:1-4 shows r4 as A")
  -- majority: q1 answers 5, 7, 7, 5.0 -> classes {5, 5.0} and {7, 7} tie; the first class wins
  -- (response 1); q2 answers extracted with srm.math: 3, 4, 3 -> response 1
  T.eq({ t[1].bench.majority, t[7].bench.majority }, { 1, 1 }, "majority representatives")
  T.eq(t[1].bench.scores, { 0, 1, 0, 1 }, "scores")
  T.truthy(E.encode_tasks(E.expand_records("jetts", items, { seed = 4 })) ~= E.encode_tasks(t),
    "another seed, other orders")
end)

T.case("SeqKO@k follows the knockout path; ties and failures keep the champion", function()
  local t = E.expand_records("jetts", items, { seed = 3 })
  -- the judge always prefers the lower original index, except q2's pair 1-3 (tie) and the
  -- failed row of no pair
  local rows = {}
  for i, task in ipairs(t) do
    local b = task.bench
    local want = math.min(b.first, b.second)
    local v = b.first == want and "A" or "B"
    if task.id == "q2:1-3" then v = "tie" end
    rows[i] = { bench = b, status = "ok", verdict = v }
  end
  local m = E.evaluate("jetts", rows)
  -- q1 (order 4,1,2,3; scores 0,1,0,1): k=1 champion 4 -> 1; k=2: 4 vs 1 -> 1 wins -> 0;
  --   k>=4: 1 beats 2 and 3 -> 0
  -- q2 (order 1,3,2; scores 1,0,1): k=1 -> 1; 1 vs 3 tie keeps 1; 1 beats 2 -> 1 for every k
  T.eq(m.seqko, { ["seqko@1"] = 1, ["seqko@2"] = 0.5, ["seqko@4"] = 0.5, ["seqko@8"] = 0.5,
    ["seqko@10"] = 0.5 }, "SeqKO")
  -- pass@1: (0 + 1) / 2; random@10: (2/4 + 2/3) / 2; oracle@10: 1; majority@10: (0 + 1) / 2
  T.eq(m.references["pass@1"], 0.5, "pass@1")
  T.near(m.references["random@10"], (0.5 + 2 / 3) / 2, 1e-15, "random@10")
  T.eq({ m.references["oracle@10"], m.references["majority@10"] }, { 1, 0.5 }, "oracle, majority")
  T.eq({ m.prompts, m.rows, m.no_verdict }, { 2, 9, 0 }, "counts (a tie is a valid verdict)")
  -- a failed match keeps the champion: q1's 1-4 fails -> k=2 keeps 4 (score 1)
  rows[3] = { bench = t[3].bench, status = "judge_failed" }
  local m2 = E.evaluate("jetts", rows)
  T.eq(m2.seqko["seqko@2"], 1, "q1 keeps 4 at k=2")
  -- k=4: 4 vs 2 -> 2 wins (score 1), 2 vs 3 -> 2 -> 1
  T.eq(m2.seqko["seqko@4"], 1, "then 2 wins")
  T.eq(m2.no_verdict, 1, "one failure")
end)

T.case("a response without a score is an expansion error", function()
  T.raises(function()
    E.expand_records("jetts", { { record = { id = "z", query = "q", responses = { "text" } }, where = "w:1" } })
  end, "w:1: prompt z: response 1 has no numeric score")
end)

T.done()
