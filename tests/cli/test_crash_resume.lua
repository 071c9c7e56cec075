-- Crash-and-resume soak (issue 9): an LLM-judge run against srm-mock is killed with SIGKILL at
-- random moments and resumed with --resume each time; the final file must hold exactly one row
-- per input id, no torn or duplicated line, and the same rows as an uninterrupted run apart from
-- latency_ms and usage (resumed records may be answered from the reply cache).
--
-- ctest runs a small version; bench/run_crash_soak.sh runs 20,000 records. Environment:
-- SRM_CRASH_N (records, default 3000), SRM_CRASH_KILLS (default 20), SRM_CRASH_SEED (default:
-- time), SRM_CRASH_REPORT (a file that receives a Markdown summary).
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")
local M = dofile("tests/lua/mocklib.lua")
local json = require "srm.json"
local core = require "srm.core"
M.require_mock()

local N = tonumber(os.getenv("SRM_CRASH_N") or "") or 3000
local KILLS = tonumber(os.getenv("SRM_CRASH_KILLS") or "") or 20
local SEED = tonumber(os.getenv("SRM_CRASH_SEED") or "") or os.time()
math.randomseed(SEED)
io.stdout:write(string.format("crash soak: %d records, %d kills, seed %d\n", N, KILLS, SEED))

local dir = C.tmpdir("crash-resume")
local skill = "tests/data/skills/llm_rubric.lua"
local mock <close> = M.start { threads = 2 }

-- Verdicts and latencies vary by record (directives), so records finish out of order and a
-- mixed-up row would show.
local recs = {}
for i = 1, N do
  local verdict = 1 + (i * 7919) % 5
  recs[i] = { id = "c" .. i, response = "answer " .. i, prompt = string.format(
    'question %d [[mock:latency_ms=%d,reply={"score": %d, "reason": "because %d"}]]',
    i, (i * 31) % 25, verdict, i) }
end
local data = C.write_jsonl(dir .. "/data.jsonl", recs)

local function args(out, cache, extra)
  local a = { "run", skill, data, "-o", out, "--endpoint", mock.url, "--model", "mock",
    "--no-progress", "-j", "16", "--cache", cache }
  for _, v in ipairs(extra or {}) do a[#a + 1] = v end
  return a
end

-- A row without the fields allowed to differ, as canonical text.
local function canon(row)
  row.latency_ms, row.usage = nil, nil
  return json.encode(row, { order = { "id", "score", "status", "reason", "components", "skill" } })
end

local t0 = core.now()
local full = dir .. "/full.jsonl"
local code, _, err = C.srm(args(full, dir .. "/full-cache.sqlite"), dir)
local full_s = core.now() - t0
T.case("uninterrupted run", function() T.eq(code, 0, "exit (" .. err .. ")") end)
local want = {}
for _, r in ipairs(C.read_rows(full)) do want[r.id] = canon(r) end

-- The interrupted run: start, wait a random moment, SIGKILL; repeat; then one run to the end.
local out, cache = dir .. "/crashed.jsonl", dir .. "/crashed-cache.sqlite"
local kills, missed, torn_seen, rows_at_kill = 0, 0, 0, {}
local function size(path)
  local f = io.open(path, "rb")
  if not f then return 0 end
  local n = f:seek("end")
  f:close()
  return n
end
local session_s = full_s / KILLS -- each session gets at most ~1/KILLS of the work
local t1 = core.now()
for k = 1, KILLS do
  local before = size(out)
  local h = C.spawn(args(out, cache, { "--resume" }), dir)
  local pid = h.pid()
  if k % 4 == 1 then
    -- anywhere from startup on: loading the skill, cutting a torn line, skipping done ids
    core.sleep(math.random() * 0.15)
  else
    -- once this session has written something, at a random moment of its next stretch
    local deadline = core.now() + 10
    while size(out) <= before and core.now() < deadline do core.sleep(0.005) end
    core.sleep(math.random() * session_s)
  end
  local alive = os.execute("kill -0 " .. pid .. " 2>/dev/null")
  h:kill("KILL")
  local rc = h:wait(30)
  if alive and rc ~= 0 then kills = kills + 1 else missed = missed + 1 end
  local content = C.read(out) or ""
  if #content > 0 and content:sub(-1) ~= "\n" then torn_seen = torn_seen + 1 end
  local n = 0
  for _ in content:gmatch("\n") do n = n + 1 end
  rows_at_kill[k] = n
end
local final_code, _, final_err = C.srm(args(out, cache, { "--resume" }), dir)
local crashed_s = core.now() - t1

T.case("the last resume completes", function() T.eq(final_code, 0, "exit (" .. final_err .. ")") end)

T.case("the kills hit running processes that had written part of the output", function()
  T.truthy(kills >= KILLS * 3 // 4, kills .. " of " .. KILLS .. " kills hit a running srm")
  local progressed = 0
  for k = 2, KILLS do if rows_at_kill[k] > rows_at_kill[k - 1] then progressed = progressed + 1 end end
  T.truthy(progressed >= KILLS // 2, "sessions that added rows before their kill: " .. progressed)
  local early = 0
  for k = 1, KILLS do if rows_at_kill[k] < N then early = early + 1 end end
  T.truthy(early >= KILLS * 3 // 4, "kills that came before the end: " .. early)
end)

local rows
T.case("no torn line: every line of the final file is one JSON row", function()
  local content = C.read(out)
  T.eq(content:sub(-1), "\n", "file ends with a newline")
  rows = C.read_rows(out) -- raises on a line that is not JSON
end)

T.case("exactly one row per input id, none duplicated", function()
  local ids = C.by_id(rows) -- raises on a duplicated id
  T.eq(#rows, N, "rows")
  for i = 1, N do T.truthy(ids["c" .. i], "row for c" .. i) end
end)

T.case("rows identical to the uninterrupted run (latency_ms and usage aside)", function()
  local diff = 0
  local first
  for _, r in ipairs(rows) do
    local id = r.id
    local got = canon(r)
    if got ~= want[id] then
      diff = diff + 1
      first = first or (id .. ":\n  " .. got .. "\n  " .. tostring(want[id]))
    end
  end
  T.eq(diff, 0, "rows that differ" .. (first and (", first " .. first) or ""))
end)

T.case("the mock saw no error", function() T.eq(mock.stop(), "", "mock stderr") end)

local summary = string.format(
  "| records | kills (hit / missed) | torn last line seen | uninterrupted run s | killed + resumed runs s | final rows | duplicates |\n"
  .. "|---:|---:|---:|---:|---:|---:|---:|\n| %d | %d / %d | %d | %.1f | %.1f | %d | 0 |\n",
  N, kills, missed, torn_seen, full_s, crashed_s, rows and #rows or 0)
io.stdout:write(summary)
local report = os.getenv("SRM_CRASH_REPORT")
if report then C.write(report, summary) end
os.execute("rm -rf " .. C.quote(dir))
T.done()
