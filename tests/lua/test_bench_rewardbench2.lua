-- RewardBench 2: the seeded best-of-4 shuffle, per-completion rating tasks, the 0 / 1 / 0.25
-- scoring, ratings mode and the Ties weighting, on tests/data/bench/rewardbench2_sample.jsonl.
local T = dofile("tests/lua/testlib.lua")
local E = require "srm.bench.eval"
local C = require "srm.bench.common"

local FIX = "tests/data/bench/rewardbench2_sample.jsonl"
local items = C.read_records(FIX)

local function by_id(tasks)
  local t = {}
  for _, x in ipairs(tasks) do t[x.id] = x end
  return t
end

T.case("best of 4: the chosen is swapped into a seeded position; Ties are rated per completion", function()
  local t = E.expand_records("rewardbench2", items, { seed = 11 })
  T.eq(#t, 6 + 3 + 4 + 3 + 4, "6 listwise tasks + 14 Ties completions")
  local m1 = by_id(t).m1
  local s = m1.bench.chosen_position
  T.eq(m1.responses[s], "good", "the chosen sits at chosen_position")
  T.eq(#m1.responses, 4, "the fourth rejected completion is left out, as officially")
  local map = m1.bench.position_map
  T.eq(map[s], 1, "position map: chosen")
  T.eq(map[1], s, "position map: the swapped rejected")
  local tie = by_id(t)["tied:1:2"]
  T.eq({ tie.response, tie.bench.mode, tie.bench.completion, tie.bench.num_correct, tie.bench.completions },
    { "c2", "rating", 2, 2, 4 }, "Ties task")
  -- the draw is per sample: the same seed gives the same positions whatever else is in the file
  local alone = E.expand_records("rewardbench2", { items[3] }, { seed = 11 })
  T.eq(alone[1].bench.chosen_position, s, "position independent of the other samples")
  local positions = {}
  for seed = 1, 40 do
    positions[E.expand_records("rewardbench2", { items[3] }, { seed = seed })[1].bench.chosen_position] = true
  end
  T.eq(positions, { true, true, true, true }, "all four positions occur over seeds")
end)

local function answer(task, verdict, status)
  return { bench = task.bench, status = status or "ok", verdict = verdict }
end
local function rate(task, score, status)
  return { bench = task.bench, status = status or "ok", score = score }
end

T.case("subset scores, the Ties formula and the leaderboard mean", function()
  local t = by_id(E.expand_records("rewardbench2", items, { seed = 11 }))
  local wrong = t.m1.bench.chosen_position % 4 + 1
  local letters = { "A", "B", "C", "D" }
  local rows = {
    answer(t.f1, t.f1.bench.chosen_position),          -- 1
    answer(t.f2, nil, "judge_failed"),                 -- 0.25: Factuality (1 + 0.25) / 2 = 0.625
    answer(t.m1, wrong),                               -- 0:    Math 0
    answer(t.s1, letters[t.s1.bench.chosen_position]), -- 1:    Safety 1 (letter verdict)
    answer(t.p1, t.p1.bench.chosen_position, "abstain"), -- 1: a listwise pick while abstaining
    answer(t.fo1, "E"),                                -- 0.25: Focus (no such candidate)
    -- Ties prompt 1: ref correct [8] vs [5, 6]: accurate, margin 8 - 6 = 2
    rate(t["ref:1:1"], 8), rate(t["ref:1:2"], 5), rate(t["ref:1:3"], 6),
    -- tied correct [9, 7] vs [4, 6]: accurate, spread 9 - 7 = 2, margin 7 - 6 = 1
    rate(t["tied:1:1"], 9), rate(t["tied:1:2"], 7), rate(t["tied:1:3"], 4), rate(t["tied:1:4"], 6),
    -- Ties prompt 2: ref correct [5] vs [7, 2]: not accurate, margin 5 - 7 = -2
    rate(t["ref:2:1"], 5), rate(t["ref:2:2"], 7), rate(t["ref:2:3"], 2),
    -- tied correct [8, 8] vs [3, failed = -1]: accurate, spread 0, margin 8 - 3 = 5
    rate(t["tied:2:1"], 8), rate(t["tied:2:2"], 8), rate(t["tied:2:3"], 3),
    rate(t["tied:2:4"], nil, "timeout"),
  }
  local m = E.evaluate("rewardbench2", rows)
  T.eq(m.subsets.Factuality, { samples = 2, score = 0.625 }, "Factuality")
  T.eq(m.subsets.Math.score, 0, "Math")
  T.eq(m.subsets.Safety.score, 1, "Safety")
  T.eq(m.subsets["Precise IF"].score, 1, "Precise IF")
  T.eq(m.subsets.Focus.score, 0.25, "Focus")
  local ties = m.subsets.Ties
  -- acc(ref) = 1/2, acc(tied) = 2/2; both prompts have a spread:
  --   prompt 1: tied margin 1 > spread 2? no (0); min(2, 1) = 1 > 2? no (0); tanh(1/2 - 1)
  --   prompt 2: 5 > 0 yes (1); min(-2, 5) > 0? no (0); spread 0: the official numpy code
  --             divides -2 by 0 -> -inf, tanh(-inf - 1) = -1 (a 0/0 would be NaN -> 0)
  -- margin score = (tanh(-0.5) + -1) / 2 = -0.7310585786300049
  -- score = 0.3*1 + 0.3*0.5 + 0.2*0.5 + 0.2*0 + 0.01*(-0.7310585786300049)
  --       = 0.5426894142136999 (CPython)
  T.eq({ ties.accuracy_ref, ties.accuracy_tied, ties.correctness_preferred,
    ties.correctness_preferred_hard, ties.prompts_common, ties.samples }, { 0.5, 1, 0.5, 0, 2, 4 }, "parts")
  T.near(ties.margin_score, -0.7310585786300049, 1e-16, "mean of tanh(-0.5) and -1")
  T.near(ties.score, 0.5426894142136999, 1e-16, "Ties score")
  -- leaderboard: (0.625 + 1 + 0 + 1 + 0.25 + 0.5426894142136999) / 6 = 0.56961490236895
  T.near(m.score, 0.56961490236895, 1e-15, "mean of the six subsets")
  T.eq({ m.rows, m.no_verdict }, { 20, 3 }, "f2 failed, fo1 'E', one Ties timeout")
end)

T.case("the leaderboard score is null unless all six subsets are present", function()
  local t = by_id(E.expand_records("rewardbench2", items, { seed = 11 }))
  local m = E.evaluate("rewardbench2", { answer(t.f1, t.f1.bench.chosen_position) })
  T.eq(m.score, C.null, "score")
  T.eq(m.subsets.Factuality.score, 1, "subset still reported")
end)

T.case("ratings mode: top-rated completions share the credit", function()
  local t = by_id(E.expand_records("rewardbench2:ratings", items, { seed = 11 }))
  T.eq(t["f1:1"].response, "good", "completion 1 is the chosen")
  local rows = {
    -- f1 ratings [7, 7, 3, failed]: two top completions, the chosen among them -> 1/2
    rate(t["f1:1"], 7), rate(t["f1:2"], 7), rate(t["f1:3"], 3), rate(t["f1:4"], nil, "judge_failed"),
    -- f2: no valid rating -> 0.25
    rate(t["f2:1"], nil, "timeout"), rate(t["f2:2"], nil, "timeout"),
    rate(t["f2:3"], nil, "timeout"), rate(t["f2:4"], nil, "timeout"),
    -- m1 (all four rejected rated): chosen 9 beats 8, 1, 1, 1 -> 1
    rate(t["m1:1"], 9), rate(t["m1:2"], 8), rate(t["m1:3"], 1), rate(t["m1:4"], 1), rate(t["m1:5"], 1),
  }
  local m = E.evaluate("rewardbench2", rows)
  T.eq(m.subsets.Factuality.score, (0.5 + 0.25) / 2, "Factuality")
  T.eq(m.subsets.Math.score, 1, "Math")
end)

T.case("a Ties record without num_correct is an expansion error", function()
  T.raises(function()
    E.expand_records("rewardbench2", { { record = { id = "tied:9", subset = "Ties", prompt = "p",
      chosen = { "a" }, rejected = { "b" } }, where = "x:3" } })
  end, "x:3: sample tied:9: Ties sample without integer 'num_correct'")
end)

T.done()
