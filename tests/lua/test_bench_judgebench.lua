-- JudgeBench loader and metric on small fixtures (tests/data/bench/). The published scores of
-- the seven recorded judges are checked by test_bench_published.lua (needs ../shared/data).
local T = dofile("tests/lua/testlib.lua")
local E = require "srm.bench.eval"
local C = require "srm.bench.common"

local PAIRS = "tests/data/bench/judgebench_pairs.jsonl"

T.case("each pair becomes two games, the second with the responses swapped", function()
  local tasks = E.expand_records("judgebench", C.read_records(PAIRS), { seed = 3 })
  T.eq(#tasks, 6, "tasks")
  T.eq(tasks[1], { id = "p1:g1", prompt = "Q1?", response_A = "a1", response_B = "b1",
    bench = { bench = "judgebench", sample = "p1", game = 1, games = 2, label = "A>B",
      source = "mmlu-pro-law", swapped = false, index = 1 } }, "game 1")
  T.eq(tasks[2].id, "p1:g2", "id")
  T.eq({ tasks[2].response_A, tasks[2].response_B, tasks[2].bench.swapped }, { "b1", "a1", true }, "game 2")
  local again = E.expand_records("judgebench", C.read_records(PAIRS), { seed = 99 })
  T.eq(E.encode_tasks(again), E.encode_tasks(tasks), "no randomness: the seed changes nothing")
end)

T.case("a record without a valid label is an expansion error naming its line", function()
  T.raises(function()
    E.expand_records("judgebench", { { record = { pair_id = "x", label = "A=B" }, where = "f:7" } })
  end, "f:7: pair x: label must be")
end)

-- Rows as srm writes them (only the fields the metric reads).
local function row(tasks, i, status, verdict)
  return { bench = tasks[i].bench, status = status, verdict = verdict }
end

T.case("srm rows: game 2 is flipped back, ties and failures vote 0", function()
  local t = E.expand_records("judgebench", C.read_records(PAIRS), {})
  local rows = {
    -- p1, label A>B: g1 A (+1), g2 B = original A (+1): sum 2, correct
    row(t, 1, "ok", "A"), row(t, 2, "ok", "B"),
    -- p2, label B>A: g1 A (-1), g2 judge_failed (0): sum -1, wrong
    row(t, 3, "ok", "A"), row(t, 4, "judge_failed", nil),
    -- p3, label A>B: g1 tie (0), g2 A = original B, i.e. B>A (-1): sum -1, wrong
    row(t, 5, "ok", "tie"), row(t, 6, "ok", "A"),
  }
  local m = E.evaluate("judgebench", rows)
  T.eq({ m.pairs, m.correct, m.games, m.no_verdict }, { 3, 1, 6, 1 }, "counts")
  T.eq(m.score, 100 / 3, "1 of 3 pairs")
  T.eq(m.by_source["mmlu-pro"], { pairs = 1, correct = 1, score = 100 }, "mmlu-pro")
  T.eq(m.by_source["livebench-math"].score, 0, "livebench-math")
  T.eq(m.by_source["livebench-reasoning"].pairs, 0, "no reasoning pair")
  T.eq(m.by_source["livebench-reasoning"].score, C.null, "undefined score is null")
  -- one game alone: p1 g1 A (+1) is enough for sum > 0
  T.eq(E.evaluate("judgebench", { row(t, 1, "ok", "A") }).score, 100, "a single game")
end)

T.case("JudgeBench's own output format (judgments[].decision)", function()
  local rows = E.read_predictions("tests/data/bench/judgebench_outputs_sample.jsonl")
  local m = E.evaluate("judgebench", rows)
  -- 13 pairs from the recorded claude-3-haiku run (decisions A>B, B>A, A=B and null, 5 nulls).
  -- Votes with game 2 flipped back; the correct pairs are line 2 (label B>A: B>A +1, A>B ->
  -- B>A +1), line 4 (label B>A: null 0, A>B -> B>A +1) and line 12 (the same): 3 of 13.
  T.eq({ m.pairs, m.correct, m.games, m.no_verdict }, { 13, 3, 26, 5 }, "counts")
  T.eq(m.score, 300 / 13, "overall")
  T.eq(m.by_source["mmlu-pro"].score, 50, "mmlu-pro 2/4")
  T.eq(m.by_source["livebench-math"].score, 0, "livebench-math 0/3")
  T.eq(m.by_source["livebench-reasoning"].score, 0, "livebench-reasoning 0/2")
  T.eq(m.by_source["livecodebench"].score, 25, "livecodebench 1/4")
end)

T.case("a row of another benchmark or without bench is refused", function()
  T.raises(function() E.evaluate("judgebench", { { status = "ok", verdict = "A", line = 4 } }) end,
    "line 4: row has no 'bench' object")
  T.raises(function() E.evaluate("judgebench", { { bench = { bench = "rmbench" }, line = 2 } }) end,
    "row belongs to benchmark 'rmbench'")
end)

T.done()
