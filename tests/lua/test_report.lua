-- srm.report.stats and srm.report.rows: histogram bins, edges, moments, reservoir sampling,
-- top-N selection, ranks, Spearman's rho, quantiles, and the row aggregates `srm report` draws
-- (statuses, reasons, components, disagreement matrix, swap inconsistency, generations,
-- surprising rows, the input-record join). Expected values are exact.
local T = dofile("tests/lua/testlib.lua")
local S = require "srm.report.stats"
local R = require "srm.report.rows"
local json = require "srm.json"

T.case("hist: 20 bins over [0, 1], edges go up, 1 closes the last bin, out of range apart", function()
  local h = S.hist(20, 0, 1)
  for _, x in ipairs({ 0, 0.049, 0.05, 0.5, 0.95, 0.9999, 1, -0.01, 1.5, 0 / 0, "x" }) do h:add(x) end
  T.eq(h.bins[1], 2, "[0, 0.05)")
  T.eq(h.bins[2], 1, "[0.05, 0.1)")
  T.eq(h.bins[11], 1, "[0.5, 0.55)")
  T.eq(h.bins[20], 3, "[0.95, 1]")
  T.eq(h.below, 1, "below")
  T.eq(h.above, 1, "above")
  T.eq(h.n, 9, "NaN and strings ignored")
  local sum = 0
  for _, c in ipairs(h.bins) do sum = sum + c end
  T.eq(sum, 7, "in range")
  T.eq({ h:range(3) }, { 0.1, 0.15000000000000002 }, "range of bin 3")
end)

T.case("hist over [-1, 1] (score deltas)", function()
  local h = S.hist(20, -1, 1)
  T.eq(h:bin(-1), 1, "-1")
  T.eq(h:bin(-0.9), 2, "-0.9")
  T.eq(h:bin(0), 11, "0")
  T.eq(h:bin(1), 20, "1")
  T.eq(h:bin(-1.0001), 0, "below")
  T.eq(h:bin(1.0001), 21, "above")
end)

T.case("edges: (-inf, e1), [e1, e2), ..., [en, inf)", function()
  local e = S.edges({ 1, 3, 10 })
  for _, x in ipairs({ 0, 0.99, 1, 2.9, 3, 9.99, 10, 1e9, 0 / 0 }) do e:add(x) end
  T.eq(e.bins, { 2, 2, 2, 2 }, "bins")
  T.eq(e.n, 8, "NaN ignored")
end)

T.case("moments: mean, min, max; empty has no mean", function()
  local m = S.moments()
  T.eq(m:mean(), nil, "empty")
  for _, x in ipairs({ 2, 4, -1, 0 / 0, "3" }) do m:add(x) end
  T.eq({ m.n, m.sum, m.min, m.max }, { 3, 5, -1, 4 }, "moments")
  T.near(m:mean(), 5 / 3, 1e-15, "mean")
end)

T.case("reservoir: keeps cap items, each from the stream, reproducible for a seed", function()
  local function run(seed)
    local r = S.reservoir(10, seed)
    for i = 1, 1000 do r:add(i) end
    return r
  end
  local a, b, c = run(5), run(5), run(6)
  T.eq(#a.items, 10, "size")
  T.eq(a.seen, 1000, "seen")
  T.eq(a.items, b.items, "same seed, same sample")
  T.truthy(not T.deep_equal(a.items, c.items), "another seed, another sample")
  local seen = {}
  for _, v in ipairs(a.items) do
    T.truthy(v >= 1 and v <= 1000 and not seen[v], "distinct stream items")
    seen[v] = true
  end
  local small = S.reservoir(10, 1)
  for i = 1, 4 do small:add(i) end
  T.eq(small.items, { 1, 2, 3, 4 }, "under the cap everything is kept in order")
end)

T.case("reservoir: roughly uniform (each of 100 values kept ~ cap/100 of the time)", function()
  local counts = {}
  for seed = 1, 400 do
    local r = S.reservoir(5, seed)
    for i = 1, 100 do r:add(i) end
    for _, v in ipairs(r.items) do counts[v] = (counts[v] or 0) + 1 end
  end
  -- 2000 picks over 100 values: 20 expected each; the first and last 10 must not be skewed
  local first, last = 0, 0
  for i = 1, 10 do first = first + (counts[i] or 0); last = last + (counts[90 + i] or 0) end
  T.truthy(first > 130 and first < 270, "first tenth " .. first)
  T.truthy(last > 130 and last < 270, "last tenth " .. last)
end)

T.case("topn: largest keys first, ties keep the earliest, NaN ignored", function()
  local t = S.topn(3)
  local keys = { 0.5, 0.9, 0.1, 0.9, 0.7, 0 / 0, 0.9, 0.2 }
  for i, k in ipairs(keys) do t:add(k, i) end
  T.eq(t:sorted(), { 2, 4, 7 }, "three 0.9s in order of arrival")
  local u = S.topn(4)
  for i, k in ipairs({ 3, 1, 4, 1, 5, 9, 2, 6 }) do u:add(k, i) end
  T.eq(u:sorted(), { 6, 8, 5, 3 }, "9, 6, 5, 4")
  T.eq(u:would_take(4), false, "4 does not beat the smallest kept (4, added earlier)")
  T.eq(u:would_take(4.5), true, "4.5 does")
  T.eq(S.topn(0):sorted(), {}, "n = 0")
end)

T.case("ranks: ties share the mean position", function()
  T.eq(S.ranks({ 5, 6, 7, 8, 7 }), { 1, 2, 3.5, 5, 3.5 }, "one tie")
  T.eq(S.ranks({ 1, 1, 1 }), { 2, 2, 2 }, "all tied")
  T.eq(S.ranks({ 3, 2, 1 }), { 3, 2, 1 }, "reversed")
  T.eq(S.ranks({}), {}, "empty")
end)

T.case("spearman: scipy's reference values, undefined cases are nil", function()
  T.eq(S.spearman({ 1, 2, 3, 4, 5 }, { 5, 6, 7, 8, 7 }), 0.8207826816681233, "scipy docs example")
  T.eq(S.spearman({ 10, 20, 30, 40 }, { 4, 3, 2, 1 }), -1.0, "perfectly reversed")
  T.eq(S.spearman({ 1, 2, 3 }, { 1, 4, 9 }), 1.0, "monotone, not linear")
  T.eq(S.spearman({ 1, 2 }, { 2, 1 }), nil, "fewer than 3 pairs")
  T.eq(S.spearman({ 1, 2, 3 }, { 7, 7, 7 }), nil, "a constant side")
  T.eq(S.spearman({ 1, 2, 3 }, { 1, 2 }), nil, "unequal lengths")
end)

T.case("binned_means: equal-count groups by x, ties kept in input order", function()
  T.eq(S.binned_means({ 4, 1, 3, 2, 5, 6 }, { 40, 10, 30, 20, 50, 60 }, 3),
    { { 1.5, 15 }, { 3.5, 35 }, { 5.5, 55 } }, "three groups of two")
  T.eq(S.binned_means({ 1, 2, 3 }, { 1, 0, 1 }, 10), { { 1, 1 }, { 2, 0 }, { 3, 1 } }, "k capped at n")
  T.eq(S.binned_means({ 1, 2, 3, 4, 5 }, { 0, 0, 1, 1, 1 }, 2), { { 1.5, 0 }, { 4, 1 } }, "uneven split")
  T.eq(S.binned_means({}, {}, 5), {}, "empty")
end)

T.case("quantile: linear between closest ranks (numpy's default)", function()
  local s = { 1, 2, 3, 4 }
  T.eq(S.quantile(s, 0), 1, "min")
  T.eq(S.quantile(s, 1), 4, "max")
  T.eq(S.quantile(s, 0.5), 2.5, "median")
  T.eq(S.quantile(s, 0.9), 3.7, "p90")
  T.eq(S.quantile({ 7 }, 0.99), 7, "one value")
  T.eq(S.quantile({}, 0.5), nil, "empty")
end)

-- A small run: 3 components, 2 generations, mixed statuses.
local function row(id, status, score, comps, gen, extra)
  local r = { id = id, status = status, score = score, components = comps,
    skill = { name = "s", sha256 = gen == 1 and "aaaa" or "bbbb", generation = gen },
    usage = { llm_calls = 2, prompt_tokens = 10, completion_tokens = 3, cache_hits = 1, retries = 0 },
    latency_ms = 50 }
  for k, v in pairs(extra or {}) do r[k] = v end
  return r
end
local function ok(s, detail) return { score = s, status = "ok", detail = detail } end
local function st(status, reason) return { status = status, reason = reason } end

local RUN = {
  row("a", "ok", 1, { rule = ok(1), judge = ok(1, { orders = { "A", "A" } }), ver = ok(1) }, 1),
  row("b", "ok", 0.5, { rule = ok(1), judge = ok(0, { orders = { "A", "B" } }), ver = ok(0.5) }, 1),
  row("c", "ok", 0.25, { rule = ok(0), judge = ok(0.5), ver = st("abstain", "no ref") }, 1),
  row("d", "abstain", nil, { rule = st("abstain", "empty"), judge = st("abstain", "declined") }, 2,
    { reason = "all abstained" }),
  row("e", "judge_failed", nil, { rule = ok(1), judge = st("judge_failed", "timeout (TIMEOUT)") }, 2,
    { reason = "judge failed" }),
  row("f", "ok", 0.9, { rule = ok(1), judge = ok(0.8), ver = ok(0.9) }, 2, { latency_ms = 5000 }),
  row("g", "skill_error", nil, {}, 2, { reason = "x.lua:1: boom", usage = { llm_calls = 0 } }),
}

local function aggregate(opts)
  local agg = R.new(opts or { top = 3 })
  for _, r in ipairs(RUN) do agg:add(r, json.encode(r)) end
  agg:add_bad(9, "not JSON")
  return agg:result()
end

T.case("rows: statuses, reasons, scores, usage", function()
  local res = aggregate()
  T.eq(res.n, 7, "rows")
  T.eq(res.bad, 1, "bad lines")
  T.eq(res.status, { { key = "ok", count = 4 }, { key = "abstain", count = 1 },
    { key = "judge_failed", count = 1 }, { key = "skill_error", count = 1 } }, "status counts")
  T.eq(res.reasons.judge_failed.list, { { key = "judge failed", count = 1 } }, "reasons")
  T.eq(res.reasons.ok, nil, "no reasons kept for ok")
  T.eq(res.score.n, 4, "ok scores")
  T.eq(res.score.bins[21 - 1], 1, "1 in the last bin")
  T.eq(res.score.bins[11], 1, "0.5")
  T.eq(res.score.bins[6], 1, "0.25")
  T.eq(res.score.bins[19], 1, "0.9")
  T.eq(res.score_mean, (1 + 0.5 + 0.25 + 0.9) / 4, "mean")
  T.eq(res.usage, { llm_calls = 12, prompt_tokens = 60, completion_tokens = 18, cache_hits = 6, retries = 0 }, "usage")
  T.eq(res.calls.bins, { 1, 0, 6, 0, 0, 0, 0, 0, 0, 0 }, "calls: one row with 0, six with 2")
  T.eq(res.latency.bins, { 0, 0, 0, 0, 6, 0, 0, 0, 1, 0, 0, 0 }, "latency bins")
  T.eq({ res.latency.p50, res.latency.max }, { 50, 5000 }, "latency")
  T.eq(res.skills, { { name = "s", sha256 = "aaaa", generation = 1, count = 3 },
    { name = "s", sha256 = "bbbb", generation = 2, count = 4 } }, "skills")
end)

T.case("rows: components, abstain rates, swap inconsistency", function()
  local res = aggregate()
  local by = {}
  for _, c in ipairs(res.components) do by[c.name] = c end
  T.eq({ res.components[1].name, res.components[2].name, res.components[3].name }, { "judge", "rule", "ver" }, "sorted")
  T.eq({ by.rule.n, by.rule.abstain, by.rule.failed, by.rule.scored }, { 6, 1, 0, 5 }, "rule")
  T.eq({ by.judge.n, by.judge.abstain, by.judge.failed, by.judge.scored }, { 6, 1, 1, 4 }, "judge")
  T.eq({ by.ver.n, by.ver.abstain, by.ver.scored }, { 4, 1, 3 }, "ver")
  T.eq(by.rule.mean, 0.8, "rule mean")
  T.eq({ by.judge.swap_n, by.judge.swap_bad }, { 2, 1 }, "swap")
  T.eq(by.judge.reasons.judge_failed, { { reason = "timeout (TIMEOUT)", count = 1 } }, "component reasons")
end)

T.case("rows: disagreement matrix counts rows where both scored ok", function()
  local m = aggregate().matrix
  T.eq(m.names, { "judge", "rule", "ver" }, "names")
  -- judge vs rule on a, b, c, f: sides (>= 0.5) differ on b (0 vs 1) and c (0.5 vs 0)
  T.eq(m.cells[1][2], { n = 4, rate = 0.5, mad = (0 + 1 + 0.5 + 0.2) / 4 }, "judge-rule")
  T.eq(m.cells[2][1], m.cells[1][2], "symmetric")
  -- rule vs ver on a, b, f: never on different sides
  T.eq(m.cells[2][3].rate, 0, "rule-ver")
  T.eq(m.cells[2][3].n, 3, "rule-ver rows")
  T.eq(m.cells[1][1], nil, "diagonal")
end)

T.case("rows: surprising rows are the largest component spreads, earliest first on ties", function()
  local res = aggregate()
  local ids = {}
  for i, s in ipairs(res.surprising) do ids[i] = s.id .. "=" .. s.spread end
  -- spreads: a 0, b 1, c 0.5, e 0 (one ok component only), f 0.2
  T.eq(ids, { "b=1", "c=0.5", "f=0.2" }, "top 3")
  T.eq(json.decode(res.surprising[1].line).id, "b", "the full row is kept")
end)

T.case("rows: per-generation split", function()
  local res = aggregate()
  T.eq(#res.generations, 2, "two generations")
  local g1, g2 = res.generations[1], res.generations[2]
  T.eq({ g1.key, g1.n, g1.mean }, { "1", 3, (1 + 0.5 + 0.25) / 3 }, "gen 1")
  T.eq({ g2.key, g2.n, g2.mean }, { "2", 4, 0.9 }, "gen 2")
  T.eq(g2.status, { { key = "ok", count = 1 }, { key = "abstain", count = 1 },
    { key = "judge_failed", count = 1 }, { key = "skill_error", count = 1 } }, "gen 2 statuses")
  local judge2
  for _, c in ipairs(g2.components) do if c.name == "judge" then judge2 = c end end
  T.eq({ judge2.n, judge2.abstain, judge2.mean }, { 3, 1, 0.8 }, "judge in gen 2")
end)

T.case("rows: hostile values do not break the aggregates", function()
  local agg = R.new()
  agg:add({ id = {}, status = 5, score = "1", components = { [1] = "x", y = 7, z = { status = {}, score = 0 / 0 } },
    skill = { generation = 1.5, name = {} }, usage = { llm_calls = "many" }, latency_ms = 1 / 0 })
  agg:add({ components = "nope", skill = "nope", usage = 3 })
  agg:add(nil)
  local res = agg:result()
  T.eq(res.n, 2, "rows")
  T.eq(res.bad, 1, "nil row")
  T.eq(res.generations[1].key, "1.5", "float generation")
  T.eq(res.latency.n, 0, "inf latency ignored")
end)

T.case("rows: caps bound components and reasons", function()
  local agg = R.new()
  for i = 1, 200 do
    agg:add({ id = i, status = "skill_error", reason = "error " .. i, components = { ["c" .. i] = ok(1) } })
  end
  local res = agg:result()
  T.eq(#res.components, R.LIMITS.components, "components capped")
  T.eq(res.components_other, 200 - R.LIMITS.components, "the rest counted")
  T.eq(#res.reasons.skill_error.list, R.LIMITS.reasons, "reasons capped")
  T.eq(res.reasons.skill_error.other, 200 - R.LIMITS.reasons, "the rest counted")
end)

T.case("option tables: a misspelt key is an error", function()
  T.raises(function() R.new({ tpo = 3 }) end, "report.rows.new: unknown option 'tpo'")
  T.raises(function() R.scan("x", { dat = "y" }) end, "report.rows.scan: unknown option 'dat'")
  T.raises(function() require("srm.report.diff").compare("a", "b", { esp = 1 }) end,
    "report.diff.compare: unknown option 'esp'")
end)

local tmp = os.getenv("SRM_TEST_TMP") or "/tmp/srm-tests"
os.execute("mkdir -p '" .. tmp .. "'")

T.case("data join: lengths by id, out-of-order rows, pairwise length difference", function()
  local data = tmp .. "/report_data.jsonl"
  local f = assert(io.open(data, "wb"))
  f:write('{"id":"a","response":"héllo"}\n\n{"id":"b","response":"xy"}\n{"key":"c","response":"abc"}\n',
    '{"response":"1234"}\n{"id":"e"}\n')
  f:close()
  local j = assert(R.data_joiner(data, {}))
  T.eq(j:lookup("b"), { length = 2 }, "b (a is held)")
  T.eq(j:lookup("a"), { length = 5 }, "a from the held records, UTF-8 characters")
  T.eq(j:lookup("c"), { length = 3 }, "key")
  T.eq(j:lookup("5"), { length = 4 }, "line number (blank lines count)")
  T.eq(j:lookup("e"), nil, "no response field")
  T.eq(j:lookup("zzz"), nil, "unknown id")
  T.eq(j.no_field, 1, "records without the field")
  j:close()
  local pair = tmp .. "/report_pair.jsonl"
  f = assert(io.open(pair, "wb"))
  f:write('{"id":1,"response_a":"aaaa","response_b":"b"}\n')
  f:close()
  local jp = assert(R.data_joiner(pair, {}))
  T.eq(jp:lookup("1"), { length = 3 }, "len(A) - len(B)")
  T.eq(jp.mode, "pair", "mode")
  jp:close()
end)

T.case("scan: the fixture with --data gives a length correlation over the ok rows", function()
  local res = assert(R.scan("tests/data/report/rows.jsonl", { data = "tests/data/report/data.jsonl" }))
  T.eq(res.n, 40, "rows")
  T.eq(res.joined, 28, "ok rows joined")
  T.eq(res.length.rho_n, 28, "rho sample")
  T.truthy(type(res.length.rho) == "number" and res.length.rho >= -1 and res.length.rho <= 1, "rho")
  T.eq(#res.generations, 2, "generations")
  T.eq(#res.components, 3, "components")
  T.eq(select(2, R.scan("tests/data/report/missing.jsonl")) ~= nil, true, "missing file: nil, err")
end)

T.done()
