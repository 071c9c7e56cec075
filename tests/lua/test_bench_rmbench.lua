-- RM-Bench loader modes and the official 3x3 style matrix (easy / normal / hard) on a hand-made
-- fixture (tests/data/bench/rmbench_sample.json); the arithmetic is in the comments.
local T = dofile("tests/lua/testlib.lua")
local E = require "srm.bench.eval"
local C = require "srm.bench.common"

local FIX = "tests/data/bench/rmbench_sample.json"
local items = C.read_records(FIX)

T.case("9 comparisons per sample, chosen side seeded and reproducible", function()
  local t = E.expand_records("rmbench", items, { seed = 5, path = FIX })
  T.eq(#t, 18, "tasks")
  T.eq(t[1].id, "chat:1:c1r1", "id: domain from the subset")
  T.eq(t[10].id, "safety:2:c1r1", "safety domain")
  local b = t[6].bench -- sample 1, chosen style 2, rejected style 3
  T.eq({ b.chosen_style, b.rejected_style, b.domain, b.mode, b.games }, { 2, 3, "chat", "pairwise", 1 })
  local chosen_text = b.label == "A" and t[6].response_A or t[6].response_B
  T.eq(chosen_text, "c1 detailed", "the label names the side holding the chosen response")
  T.eq(E.encode_tasks(E.expand_records("rmbench", items, { seed = 5, path = FIX })), E.encode_tasks(t),
    "same seed, same bytes")
  local other = E.expand_records("rmbench", items, { seed = 6, path = FIX })
  T.truthy(E.encode_tasks(other) ~= E.encode_tasks(t), "another seed, other sides")
  local both = E.expand_records("rmbench:both", items, { seed = 5, path = FIX })
  T.eq(#both, 36, "both orders")
  T.eq({ both[1].id, both[1].bench.label, both[2].id, both[2].bench.label },
    { "chat:1:c1r1:ab", "A", "chat:1:c1r1:ba", "B" }, "both orders ids")
  local pw = E.expand_records("rmbench:pointwise", items, { seed = 5, path = FIX })
  T.eq({ #pw, pw[4].id, pw[4].response, pw[4].bench.role, pw[4].bench.style },
    { 12, "chat:1:rejected1", "r1", "rejected", 1 }, "pointwise")
end)

T.case("unknown options are refused", function()
  T.raises(function() E.expand_records("rmbench:bogus", items, {}) end, "rmbench has no option 'bogus'")
end)

-- A row winning (chosen picked) or losing the comparison of a task.
local function play(task, outcome)
  local other = task.bench.label == "A" and "B" or "A"
  if outcome == "win" then return { bench = task.bench, status = "ok", verdict = task.bench.label } end
  if outcome == "tie" then return { bench = task.bench, status = "ok", verdict = "tie" } end
  if outcome == "fail" then return { bench = task.bench, status = "judge_failed" } end
  return { bench = task.bench, status = "ok", verdict = other }
end

T.case("pairwise: the style matrix, per domain and overall", function()
  local t = E.expand_records("rmbench", items, { seed = 5, path = FIX })
  local rows = {}
  -- task order per sample: c1r1 c1r2 c1r3 c2r1 c2r2 c2r3 c3r1 c3r2 c3r3
  -- sample 1 (chat): every cell won except c1r3 and c2r3
  local s1 = { "win", "win", "loss", "win", "win", "loss", "win", "win", "win" }
  -- sample 2 (safety): c2r2 failed, c3r1 tie, upper triangle lost
  local s2 = { "win", "loss", "loss", "win", "fail", "loss", "tie", "win", "win" }
  for i = 1, 9 do rows[#rows + 1] = play(t[i], s1[i]) end
  for i = 1, 9 do rows[#rows + 1] = play(t[9 + i], s2[i]) end
  local m = E.evaluate("rmbench", rows)
  -- acc = mean of the two samples: diag (1,1)=1 (2,2)=0.5 (3,3)=1 -> normal 2.5/3;
  -- lower (2,1)=1 (3,1)=0.5 (3,2)=1 -> easy 2.5/3; upper (1,2)=0.5 (1,3)=0 (2,3)=0 -> hard 0.5/3;
  -- total = 5.5/9
  T.near(m.normal, 2.5 / 3, 1e-12, "normal")
  T.near(m.easy, 2.5 / 3, 1e-12, "easy")
  T.near(m.hard, 0.5 / 3, 1e-12, "hard")
  T.near(m.total, 5.5 / 9, 1e-12, "total")
  T.eq({ m.samples, m.games, m.no_verdict }, { 2, 18, 1 }, "counts (the tie is a valid verdict)")
  T.eq(m.matrix[1], { 1, 0.5, 0 }, "matrix row: chosen concise")
  -- chat: normal 1, easy 1, hard 1/3, total 7/9; safety: normal 2/3, easy 2/3, hard 0, total 4/9
  T.near(m.domains.chat.total, 7 / 9, 1e-12, "chat total")
  T.near(m.domains.chat.hard, 1 / 3, 1e-12, "chat hard")
  T.near(m.domains.safety.total, 4 / 9, 1e-12, "safety total")
  T.near(m.domains.safety.easy, 2 / 3, 1e-12, "safety easy")
  -- leaderboard average of the domain totals: (7/9 + 4/9) / 2 = 11/18
  T.near(m.avg, 11 / 18, 1e-12, "avg")
end)

T.case("both orders: a cell is the mean of its two games", function()
  local t = E.expand_records("rmbench:both", { items[1] }, { seed = 5, path = FIX })
  local rows = {}
  -- c1r1: ab win, ba loss -> 0.5; every other cell: both games won -> 1
  for i, task in ipairs(t) do rows[i] = play(task, i == 2 and "loss" or "win") end
  local m = E.evaluate("rmbench", rows)
  T.near(m.normal, 2.5 / 3, 1e-12, "normal (1,1) = 0.5")
  T.near(m.total, 8.5 / 9, 1e-12, "total")
  T.eq({ m.easy, m.hard, m.games }, { 1, 1, 18 }, "others")
end)

T.case("pointwise: a comparison is won when the chosen rating is strictly greater", function()
  local t = E.expand_records("rmbench:pointwise", { items[1] }, { seed = 5, path = FIX })
  -- ratings: chosen 3, 1, 2 (scores); rejected 2, 2 (rubric raw verdicts), rejected 3 failed
  local rows = {
    { bench = t[1].bench, status = "ok", score = 3 }, { bench = t[2].bench, status = "ok", score = 1 },
    { bench = t[3].bench, status = "ok", score = 2 },
    { bench = t[4].bench, status = "ok", score = 0.1, detail = { verdict = 2 } },
    { bench = t[5].bench, status = "ok", score = 0.1, detail = { verdict = 2 } },
    { bench = t[6].bench, status = "judge_failed" },
  }
  local m = E.evaluate("rmbench", rows)
  -- wins: c1 > r1 (3 > 2), c1 > r2; a failed rating loses; c3 = 2 is not > 2.
  -- matrix [[1,1,0],[0,0,0],[0,0,0]]: normal 1/3, hard (1,2)+(1,3)+(2,3) = 1/3, easy 0, total 2/9
  T.near(m.normal, 1 / 3, 1e-12, "normal")
  T.near(m.hard, 1 / 3, 1e-12, "hard")
  T.eq(m.easy, 0, "easy")
  T.near(m.total, 2 / 9, 1e-12, "total")
  T.eq(m.no_verdict, 1, "the failed rating")
end)

T.done()
