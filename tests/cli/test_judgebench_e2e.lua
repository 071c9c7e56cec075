-- JudgeBench end to end through the agent judge: `srm run skills/reward_judge/main.lua PAIRS
-- --bench judgebench --trace TRACE` in the skill_operational setting against srm-mock, then
-- `srm eval judgebench`. The judge is the "longer" mock script (--set mock_script=longer): per
-- conversation use_skill, two parallel views, run_lua, final_answer naming the longer response
-- as shown (equal lengths: Tie), so each order agrees and every task has a valid verdict.
--
-- The expected verdicts and JudgeBench metrics are computed here from the raw pair files alone
-- (byte lengths and labels), independently of srm's loader, agent and metric code.
--
-- Runs on the small pair file in tests/data/judgebench_e2e/ (own text) always, then on the 620
-- pairs of ../shared/data/judgebench/; without that directory it ends as skipped (exit 77)
-- after the small run passed.
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")
local M = dofile("tests/lua/mocklib.lua")
local json = require "srm.json"
M.require_mock()

local SMALL = "tests/data/judgebench_e2e/pairs.jsonl"
local SHARED = os.getenv("SRM_JUDGEBENCH_DIR") or "../shared/data/judgebench" -- env: tests the skip
local SHARED_FILES = { SHARED .. "/pairs_gpt-4o.jsonl", SHARED .. "/pairs_claude-3.5-sonnet.jsonl" }
local CATEGORIES = { "mmlu-pro", "livebench-reasoning", "livebench-math", "livecodebench" }
local TURNS = 4 -- use_skill, view x2, run_lua, final_answer
local dir = C.tmpdir("judgebench-e2e")
local shown -- task id -> {text shown as A, text shown as B} (set by run_e2e)

local function read_pairs(paths)
  local pairs_ = {}
  for _, p in ipairs(paths) do
    for line in io.lines(p) do
      if line:find("%S") then pairs_[#pairs_ + 1] = assert(json.decode(line)) end
    end
  end
  return pairs_
end

-- The scripted judge's verdict on two texts as shown: the longer one (bytes), else a tie.
local function longer(a, b)
  if #a > #b then return "A" elseif #b > #a then return "B" end
  return "tie"
end

-- Expected rows (id -> verdict, in order) and metrics, from the raw pairs.
local function expected(pairs_)
  local ids, verdicts, shown = {}, {}, {}
  local m = { pairs = #pairs_, correct = 0, games = 2 * #pairs_, no_verdict = 0, by_source = {} }
  for _, c in ipairs(CATEGORIES) do m.by_source[c] = { pairs = 0, correct = 0 } end
  for _, p in ipairs(pairs_) do
    local g1, g2 = p.pair_id .. ":g1", p.pair_id .. ":g2"
    ids[#ids + 1], ids[#ids + 2] = g1, g2
    verdicts[g1] = longer(p.response_A, p.response_B)
    verdicts[g2] = longer(p.response_B, p.response_A)
    shown[g1], shown[g2] = { p.response_A, p.response_B }, { p.response_B, p.response_A }
    -- both games name the longer original response: +2 when it is the label's winner
    local winner = verdicts[g1] == "A" and "A>B" or verdicts[g1] == "B" and "B>A" or nil
    local ok = winner == p.label
    if ok then m.correct = m.correct + 1 end
    for _, c in ipairs(CATEGORIES) do
      if p.source:sub(1, #c) == c then
        local s = m.by_source[c]
        s.pairs = s.pairs + 1
        if ok then s.correct = s.correct + 1 end
      end
    end
  end
  m.score = 100 * m.correct / m.pairs
  for _, c in ipairs(CATEGORIES) do
    local s = m.by_source[c]
    s.score = s.pairs > 0 and 100 * s.correct / s.pairs or nil
  end
  return ids, verdicts, m, shown
end

local function concat(paths, out)
  local parts = {}
  for _, p in ipairs(paths) do parts[#parts + 1] = assert(C.read(p)) end
  return C.write(out, table.concat(parts))
end

-- One end-to-end run; returns the rows file, the trace file and the mock's request count.
local function run_e2e(name, paths, log)
  local pairs_ = read_pairs(paths)
  local ids, verdicts, want
  ids, verdicts, want, shown = expected(pairs_)
  local data = concat(paths, dir .. "/" .. name .. ".pairs.jsonl")
  local out, trace = dir .. "/" .. name .. ".rows.jsonl", dir .. "/" .. name .. ".trace.jsonl"
  -- C.tmpdir names can repeat within a second (srm seeds math.random the same way each run)
  for _, f in ipairs { out, out .. ".tasks.jsonl", trace, log or "" } do os.remove(f) end
  local mock <close> = M.start(log and { "--log", log } or {})
  local code, _, err = C.srm({ "run", "skills/reward_judge/main.lua", data, "--bench", "judgebench",
    "-o", out, "--trace", trace, "--endpoint", mock.url, "--model", "mock", "--no-progress",
    "--no-cache", "--set", "mock_script=longer", "--map", "response_a=response_A,response_b=response_B" })
  T.eq(code, 0, "srm run exit (" .. err .. ")")
  -- one valid row per pair and order, in input order, with the scripted verdict
  local rows = C.read_rows(out)
  T.eq(#rows, 2 * #pairs_, "rows")
  for i, row in ipairs(rows) do
    local id = ids[i]
    T.eq(row.id, id, "row " .. i .. " id")
    T.eq({ row.status, row.verdict }, { "ok", verdicts[id] }, id .. ": " .. tostring(row.reason))
    T.eq({ row.bench.bench, row.bench.game }, { "judgebench", id:sub(-1) == "1" and 1 or 2 }, id)
    local o = row.components.agent.detail.orders
    T.eq({ #o, o[1].path, o[2].path, o[1].turns, o[2].turns, o[1].views, o[1].runs },
      { 2, "final_answer", "final_answer", TURNS, TURNS, 2, 1 }, id .. " orders")
    T.eq(row.components.agent.detail.setting, "skill_operational")
  end
  -- a trace line per row: both orders, every turn, tool results in full
  local traced = {}
  for line in io.lines(trace) do
    local t = assert(json.decode(line))
    T.eq(traced[t.id], nil, "one trace line per row: " .. tostring(t.id))
    traced[t.id] = t.trace
  end
  for _, id in ipairs(ids) do
    local tr = traced[id]
    T.truthy(tr, "trace for " .. id)
    T.eq({ tr.skill, tr.setting, tr.status, #tr.orders }, { "reward_judge", "skill_operational", "ok", 2 }, id)
    for _, o in ipairs(tr.orders) do
      T.eq(#o.turns, TURNS, id .. " traced turns")
      local names = {}
      for k, turn in ipairs(o.turns) do
        local ns = {}
        for j, c in ipairs(turn.calls) do
          ns[j] = c.name
          if c.name ~= "final_answer" then T.truthy(c.result ~= nil, id .. " turn " .. k .. " result") end
        end
        names[k] = table.concat(ns, "+")
      end
      T.eq(names, { "use_skill", "view_resource+view_resource", "run_lua", "final_answer" }, id)
      -- run_lua measured the texts as this order shows them (perm maps shown -> task position)
      local lua_result = o.turns[3].calls[1].result.result
      local task = shown[id]
      T.eq({ lua_result.A, lua_result.B }, { #task[o.perm[1]], #task[o.perm[2]] }, id .. " run_lua")
    end
  end
  -- srm eval: the official metric equals the independent computation
  local metrics = dir .. "/" .. name .. ".metrics.json"
  code, _, err = C.srm({ "eval", "judgebench", out, "-o", metrics })
  T.eq(code, 0, "srm eval exit (" .. err .. ")")
  local got = json.decode(C.read(metrics))
  T.eq({ got.pairs, got.correct, got.games, got.no_verdict }, { want.pairs, want.correct, want.games, 0 })
  T.near(got.score, want.score, 1e-9)
  for _, c in ipairs(CATEGORIES) do
    local g, w = got.by_source[c], want.by_source[c]
    T.eq({ g.pairs, g.correct }, { w.pairs, w.correct }, c)
    if w.score then T.near(g.score, w.score, 1e-9) else T.eq(g.score, json.null, c) end
  end
  local stats = mock.stats()
  T.eq(stats.requests, #rows * 2 * TURNS, "model requests: rows x 2 orders x 4 turns")
  return { rows = rows, pairs = pairs_, metrics = got, requests = stats.requests }
end

T.case("small pair file: rows, traces, metrics; no pair id or label reaches the model", function()
  local log = dir .. "/small.requests.log"
  local r = run_e2e("small", { SMALL }, log)
  T.eq({ r.metrics.correct, r.metrics.pairs, r.metrics.score }, { 4, 8, 50.0 })
  T.eq(r.rows[13].verdict, "tie", "equal lengths: the scripted judge ties")
  local bodies = assert(C.read(log))
  local n = 0
  for _ in bodies:gmatch("[^\n]+") do n = n + 1 end
  T.eq(n, r.requests, "every request logged")
  for _, p in ipairs(r.pairs) do
    T.eq(bodies:find(p.pair_id, 1, true), nil, "pair id " .. p.pair_id .. " sent to the model")
  end
  T.eq(bodies:find('"bench"', 1, true), nil, "the bench object never reaches the model")
  -- the turns carried the scripted tools: views of the skill's resources and a run_lua result
  T.truthy(bodies:find("The criteria", 1, true) or bodies:find("rubric", 1, true), "a resource was viewed")
end)

T.case("srm run --setting: baseline is one direct judge call per order; unknown names refused", function()
  local data = concat({ SMALL }, dir .. "/setting.pairs.jsonl")
  local out = dir .. "/setting.rows.jsonl"
  for _, f in ipairs { out, out .. ".tasks.jsonl" } do os.remove(f) end
  local mock <close> = M.start {}
  local code, _, err = C.srm({ "run", "skills/reward_judge/main.lua", data, "--bench", "judgebench",
    "-o", out, "--endpoint", mock.url, "--model", "mock", "--no-progress", "--no-cache",
    "--setting", "baseline", "--map", "response_a=response_A,response_b=response_B" })
  T.eq(code, 0, "srm run exit (" .. err .. ")")
  local rows = C.read_rows(out)
  for _, row in ipairs(rows) do T.eq(row.components.agent.detail.setting, "baseline", tostring(row.id)) end
  T.eq(mock.stats().requests, #rows * 2, "one call per order, no tools")
  code, _, err = C.srm({ "run", "skills/reward_judge/main.lua", data, "-o", out .. ".x", "--setting", "bogus" })
  T.eq(code, 2, "unknown preset")
  T.truthy(err:find("--setting bogus: expected baseline, skill_fair", 1, true), err)
end)

T.case("620 JudgeBench pairs (../shared/data/judgebench)", function()
  for _, p in ipairs(SHARED_FILES) do
    if not io.open(p, "rb") then
      T.skip_rest(SHARED .. " is missing; only the small pair file was checked")
      return
    end
  end
  local r = run_e2e("full", SHARED_FILES)
  T.eq({ #r.pairs, #r.rows }, { 620, 1240 })
  io.stdout:write(string.format("JudgeBench e2e: %d rows, %d model requests, score %.2f (%d/%d)\n",
    #r.rows, r.requests, r.metrics.score, r.metrics.correct, r.metrics.pairs))
end)

T.done_or_skip()
