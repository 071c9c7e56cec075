-- srm run --bench: a benchmark file is expanded into judge tasks next to OUT, the skill never
-- sees a task's `bench` bookkeeping, rows carry it back, and srm eval scores those rows.
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")
local json = require "srm.json"

local dir = C.tmpdir("bench_run")
local skill = "tests/data/skills/longer_wins.lua"
local data = "tests/data/bench/judgebench_lengths.jsonl"

T.case("judgebench: both orders of every pair, bookkeeping in the rows, official score", function()
  local out = dir .. "/rows.jsonl"
  local code, _, err = C.srm({ "run", skill, data, "--bench", "judgebench", "-o", out, "--no-progress" }, dir)
  T.eq(code, 0, "exit: " .. err)
  T.truthy(err:find("judgebench: 10 judge tasks -> " .. out .. ".tasks.jsonl", 1, true), "stderr: " .. err)
  local rows = C.read_rows(out)
  T.eq(#rows, 10, "two games per pair")
  local games = {}
  for _, row in ipairs(rows) do
    T.eq(row.status, "ok", "row " .. tostring(row.id) .. ": " .. tostring(row.reason))
    T.eq(type(row.bench), "table", "bench echoed")
    local pair = row.bench.sample
    games[pair] = (games[pair] or 0) + 1
  end
  for _, id in ipairs { "L1", "L2", "L3", "L4", "L5" } do T.eq(games[id], 2, id .. " games") end
  -- The longer response wins in both orders, so a pair is correct exactly when its labelled
  -- winner is the longer one: L1, L3 and L5 (L4 is a tie: 0 votes, not correct). 3 / 5 = 60.
  local mcode, stdout, merr = C.srm({ "eval", "judgebench", out }, dir)
  T.eq(mcode, 0, "eval exit: " .. merr)
  local m = json.decode(stdout)
  T.eq({ m.pairs, m.correct, m.games, m.no_verdict, m.score }, { 5, 3, 10, 0, 60 }, stdout)
  T.eq(m.by_source["mmlu-pro"].score, 50, "per source prefix")
end)

T.case("--bench needs -o, and an unknown benchmark is a usage error", function()
  local code, _, err = C.srm({ "run", skill, data, "--bench", "judgebench" }, dir)
  T.eq(code, 2, "no -o")
  T.truthy(err:find("--bench needs an output file", 1, true), err)
  code, _, err = C.srm({ "run", skill, data, "--bench", "nosuchbench", "-o", dir .. "/x.jsonl" }, dir)
  T.eq(code, 2, "unknown bench: " .. err)
  T.truthy(err:find("nosuchbench", 1, true), err)
end)

T.done()
