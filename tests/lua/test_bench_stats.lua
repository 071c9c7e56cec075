-- srm.bench.common and srm.bench.stats: the seeded streams, CPython's Mersenne Twister, the
-- IF-RewardBench Elo, Kendall tau-b and F1. Reference values were computed with CPython 3.11
-- (random.Random) and with the published splitmix64 reference output.
local T = dofile("tests/lua/testlib.lua")
local C = require "srm.bench.common"
local S = require "srm.bench.stats"

T.case("splitmix64 from state 0 gives the reference outputs", function()
  local r = C.raw_rng(0)
  -- 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f as signed 64-bit integers
  T.eq(r:next(), -2152535657050944081, "1st")
  T.eq(r:next(), 7960286522194355700, "2nd")
  T.eq(r:next(), 487617019471545679, "3rd")
end)

T.case("a sample's stream depends on the seed and its key only", function()
  local a, b = C.rng(7, "jetts:q1"), C.rng(7, "jetts:q1")
  for _ = 1, 5 do T.eq(a:next(), b:next(), "same seed, same key") end
  T.truthy(C.rng(7, "jetts:q1"):next() ~= C.rng(8, "jetts:q1"):next(), "seed matters")
  T.truthy(C.rng(7, "jetts:q1"):next() ~= C.rng(7, "jetts:q2"):next(), "key matters")
end)

T.case("below(n) stays in range and shuffle is a permutation", function()
  local r = C.rng(1, "x")
  local seen = {}
  for _ = 1, 2000 do
    local v = r:below(4)
    T.truthy(v >= 0 and v < 4, "in range")
    seen[v] = true
  end
  T.eq(seen, { [0] = true, [1] = true, [2] = true, [3] = true }, "all values drawn")
  local t = r:shuffle({ 1, 2, 3, 4, 5, 6, 7 })
  table.sort(t)
  T.eq(t, { 1, 2, 3, 4, 5, 6, 7 }, "permutation")
end)

T.case("a pinned shuffle, checked against an independent Python implementation", function()
  -- state = mix(seed ~ fnv1a(key)); below(n) = rejection on the top 53 bits; Fisher-Yates down
  T.eq(C.rng(0, "jetts:demo"):shuffle({ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }),
    { 8, 2, 4, 3, 5, 6, 7, 9, 1, 10 }, "order")
end)

T.case("py_random(42) matches CPython's random.Random(42)", function()
  local r = S.py_random(42)
  T.eq({ r:getrandbits(32), r:getrandbits(32), r:getrandbits(32) }, { 2746317213, 478163327, 107420369 })
  T.eq(S.py_random(42):shuffle({ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }), { 7, 3, 2, 8, 5, 6, 9, 4, 0, 1 }, "shuffle")
  T.eq(S.py_random(42):random(), 0.6394267984578837, "random()")
  local big = S.py_random((1 << 40) + 5) -- a two-word key
  T.eq({ big:getrandbits(32), big:getrandbits(32) }, { 2166296868, 2220160828 }, "seed 2^40 + 5")
end)

T.case("elo matches the official algorithm run under CPython, one stream across prompts", function()
  local rng = S.py_random(42)
  local a = S.elo(3, { { 1, 0 }, { 2, 0 }, { 2, 1 } }, rng)
  T.eq(a, { 1640.498778555393, 1199.9085155698103, 759.5927058747965 }, "first prompt")
  local b = S.elo(4, { { 0, 1 }, { 2, 3 }, { 1, 3 }, { 0, 2 } }, rng)
  T.eq(b, { 673.9849053369489, 1199.8990545843285, 1200.0122091446972, 1726.1038309340267 },
    "second prompt (the stream continues)")
end)

T.case("kendall_cdt and f1_pos_neg", function()
  -- C=3, D=1, T=1: (3 - 1) / sqrt(4 * 5) = 2 / 4.47213595499958
  T.eq(S.kendall_cdt(3, 1, 1), 2 / math.sqrt(20), "tau-b")
  T.eq(S.kendall_cdt(0, 0, 3), 0, "all tied: denominator max(1, 0)")
  -- hyp 1 1 0 0 1, ref 1 0 0 1 1: TP 2, FP 1, TN 1, FN 1
  -- positive: P = 2/3, R = 2/3, F1 = 2/3; negative: P = 1/2, R = 1/2, F1 = 1/2
  local p, n = S.f1_pos_neg({ 1, 1, 0, 0, 1 }, { 1, 0, 0, 1, 1 })
  T.near(p, 2 / 3, 1e-15, "positive F1")
  T.near(n, 0.5, 1e-15, "negative F1")
  T.eq({ S.f1_pos_neg({}, {}) }, { 0, 0 }, "empty")
end)

T.case("pair_verdict, index_verdict and rating read rows by status", function()
  T.eq(C.pair_verdict({ status = "ok", verdict = "A" }), "A")
  T.eq(C.pair_verdict({ status = "ok", verdict = "b>>a" }), "B")
  T.eq(C.pair_verdict({ status = "ok", verdict = "tie" }), "tie")
  T.eq(C.pair_verdict({ status = "judge_failed", verdict = "A" }), nil, "failed row")
  T.eq(C.pair_verdict({ status = "ok", verdict = "maybe" }), nil, "unknown verdict")
  T.eq(C.index_verdict({ status = "abstain", verdict = 3 }, 4), 3, "listwise pick while abstaining")
  T.eq(C.index_verdict({ status = "ok", verdict = "d" }, 4), 4, "letter")
  T.eq(C.index_verdict({ status = "ok", verdict = 5 }, 4), nil, "out of range")
  T.eq(C.rating({ status = "ok", score = 0.5, detail = { verdict = 7 } }), 7, "raw rubric verdict")
  T.eq(C.rating({ status = "ok", score = 0.5 }), 0.5, "score")
  T.eq(C.rating({ status = "abstain", score = 0.5 }), nil, "not ok")
end)

T.done()
