-- IF-RewardBench: pair tasks with the official position map, the Elo + Kendall tau-b ranking
-- metric (CPython's random.Random(42) reproduced) and the checklist (constraint) mode, on
-- tests/data/bench/ifrewardbench_sample.json. Hand computations in the comments; the Elo
-- ratings were computed by running the algorithm under CPython 3.11.
local T = dofile("tests/lua/testlib.lua")
local E = require "srm.bench.eval"
local C = require "srm.bench.common"
local json = require "srm.json"

local FIX = "tests/data/bench/ifrewardbench_sample.json"
local items = C.read_records(FIX)
local f = assert(io.open("tests/data/bench/ifrewardbench_positions.json"))
local positions = json.decode(f:read("a"))
f:close()

local function by_id(tasks)
  local t = {}
  for _, x in ipairs(tasks) do t[x.id] = x end
  return t
end

T.case("pairs follow the position map: 1 shows the higher-numbered response as A", function()
  local t = E.expand_records("ifrewardbench", items, { positions = positions })
  T.eq(#t, 3 + 1, "C(3,2) + C(2,2)")
  local p = by_id(t)
  T.eq({ p["0:0_1"].response_A, p["0:0_1"].response_B, p["0:0_1"].bench.first }, { "r1", "r0", 1 }, "0_1 -> 1")
  T.eq({ p["0:0_2"].response_A, p["0:0_2"].bench.first }, { "r0", 0 }, "0_2 -> 0")
  T.eq(p["1:0_1"].prompt, "One word.", "prompt = last user message")
  T.eq(#p["1:0_1"].messages, 4, "the whole conversation travels too")
  T.eq(p["0:0_1"].bench.graph, { { 0, 1 }, { 0, 2 }, { 1, 2 } }, "gold edges, 0-based")
  local seeded = E.expand_records("ifrewardbench", items, { seed = 4 })
  T.eq(#seeded, 4, "without a map: seeded coins")
  T.raises(function()
    E.expand_records("ifrewardbench", items, { positions = { ["0"] = { ["0_1"] = 0 } } })
  end, "position map lacks '0_2'")
end)

T.case("pairwise: Elo per prompt, tau-b against the gold graph, mean per instruction type", function()
  local p = by_id(E.expand_records("ifrewardbench", items, { positions = positions }))
  local rows = {
    -- prompt 0: 0_1 shown as (A = r1, B = r0), B wins: r0 beats r1
    { bench = p["0:0_1"].bench, status = "ok", verdict = "B" },
    -- 0_2 shown as (A = r0, B = r2), A wins: r0 beats r2
    { bench = p["0:0_2"].bench, status = "ok", verdict = "A" },
    -- 1_2: tie, skipped
    { bench = p["0:1_2"].bench, status = "ok", verdict = "tie" },
    -- prompt 1: (A = r0, B = r1), A wins: r0 beats r1 against the gold 1 > 0
    { bench = p["1:0_1"].bench, status = "ok", verdict = "A" },
  }
  local m = E.evaluate("ifrewardbench", rows)
  -- Comparisons in the official visiting order: prompt 0 [(2,0), (1,0)] -> Elo (CPython)
  -- [1599.428..., 1000.2286658978893, 1000.3432791628586]: gold 0>1 C, 0>2 C, 1>2 D (r1 < r2)
  --   accuracy 2/3, tau-b (2 - 1) / sqrt(3 * 3) = 1/3
  -- prompt 1 [(1,0)] -> [1463.04..., 936.95...]: gold 1>0 D: accuracy 0, tau-b -1
  local st, mt = m.instruction_types.Single_Turn, m.instruction_types.Multi_Turn
  T.near(st.accuracy, 2 / 3, 1e-15, "single-turn accuracy")
  T.near(st.kendall_tau_b, 1 / 3, 1e-15, "single-turn tau")
  T.eq({ mt.accuracy, mt.kendall_tau_b }, { 0, -1 }, "multi-turn")
  T.near(m.overall.accuracy, 1 / 3, 1e-15, "overall accuracy = mean of the types")
  T.near(m.overall.kendall_tau_b, -1 / 3, 1e-15, "overall tau")
  T.eq({ m.prompts, m.rows, m.no_verdict, m.mode }, { 2, 4, 0, "pairwise" }, "counts")
end)

T.case("checklist mode: per-item verdicts, F1 and the ranking by pass rate", function()
  local p = by_id(E.expand_records("ifrewardbench:checklist", items, {}))
  T.eq(p["0:r1"].checklist, { "Exactly two lines", "Mentions the sea" }, "checklist field")
  T.eq(p["0:r1"].bench.labels, { 1, 0 }, "gold labels only in bench")
  local function items_of(...)
    local out = {}
    for i, v in ipairs({ ... }) do out[i] = { pass = v } end
    return out
  end
  local rows = {
    { bench = p["0:r0"].bench, status = "ok", detail = { items = items_of(true, true) } },
    { bench = p["0:r1"].bench, status = "ok", detail = { items = items_of(true, false) } },
    { bench = p["0:r2"].bench, status = "judge_failed" },               -- counts as [1, 1]
    { bench = p["1:r0"].bench, status = "ok", verdict = { false } },     -- verdict array form
    { bench = p["1:r1"].bench, status = "ok", detail = { items = {} } }, -- padded: [1]
  }
  local m = E.evaluate("ifrewardbench", rows)
  -- prompt 0: hyp 1 1 1 0 1 1, ref 1 1 1 0 0 0: TP 3, TN 1, FP 2, FN 0
  --   positive F1 = 2 (3/5)(1) / (8/5) = 0.75; negative F1 = 2 (1)(1/3) / (4/3) = 0.5
  --   pass rates r0 1, r1 0.5, r2 1: 0>1 C, 0>2 T, 1>2 D: accuracy 1/3, tau-b 0
  -- prompt 1: hyp 0 1 = ref: both F1 1; pass rates 0, 1: gold 1>0 C: accuracy 1, tau 1
  local st, mt = m.instruction_types.Single_Turn, m.instruction_types.Multi_Turn
  -- (in floating point 2 * 0.6 * 1 / 1.6 = 0.7499999999999999, as in CPython)
  T.eq({ st.positive_f1, st.negative_f1, st.kendall_tau_b }, { 0.7499999999999999, 0.5, 0 }, "single-turn")
  T.near(st.accuracy, 1 / 3, 1e-15, "single-turn accuracy")
  T.eq({ mt.positive_f1, mt.negative_f1, mt.accuracy, mt.kendall_tau_b }, { 1, 1, 1, 1 }, "multi-turn")
  T.eq({ m.overall.positive_f1, m.overall.negative_f1, m.overall.kendall_tau_b }, { 0.875, 0.75, 0.5 }, "overall")
  T.near(m.overall.accuracy, 2 / 3, 1e-15, "overall accuracy")
  T.eq({ m.no_verdict, m.mode }, { 1, "checklist" }, "the failed row")
end)

T.done()
