-- --workers N gives the same rows as --workers 1 (issue 9): byte for byte apart from latency_ms,
-- for N = 1, 2, 4, on a CPU-bound rule skill (bench/regex_heavy.lua, a dozen regexes a record)
-- and on an LLM judge skill against srm-mock (scripted verdicts, latencies that make records
-- finish out of order, some first attempts failing). scripts/tsan.sh runs this under
-- ThreadSanitizer.
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")
local M = dofile("tests/lua/mocklib.lua")

local dir = C.tmpdir("workers-identical")
local n_cpu = tonumber(os.getenv("SRM_WORKERS_N") or "") or 2000
local n_llm = tonumber(os.getenv("SRM_WORKERS_LLM_N") or "") or 600

-- Output lines with the latency field removed (the only field allowed to differ).
local function stripped(path)
  local lines = {}
  for line in io.lines(path) do
    local s, k = line:gsub(',"latency_ms":[-%d.e+]+', "")
    assert(k == 1, "one latency_ms per row: " .. line:sub(1, 200))
    lines[#lines + 1] = s
  end
  return lines
end

local function same_rows(a, b, what)
  T.eq(#b, #a, what .. ": row count")
  for i = 1, #a do
    if a[i] ~= b[i] then
      error(string.format("%s: row %d differs:\n  %s\n  %s", what, i, a[i]:sub(1, 400), b[i]:sub(1, 400)), 2)
    end
  end
end

local function run(skill, data, workers, extra)
  local out = dir .. "/" .. skill:match("([%w_]+)%.lua$") .. "-w" .. workers .. ".jsonl"
  local args = { "run", skill, data, "-o", out, "--overwrite", "--no-progress", "--workers", tostring(workers) }
  for _, v in ipairs(extra or {}) do args[#args + 1] = v end
  local code, _, err = C.srm(args, dir)
  T.eq(code, 0, "srm run --workers " .. workers .. " exit (" .. err:sub(1, 2000) .. ")")
  return out
end

T.case("CPU-bound skill: rows identical for --workers 1, 2, 4", function()
  local data = dir .. "/cpu.jsonl"
  local rc = C.srm({ "lua", "bench/gen_records.lua", tostring(n_cpu), data }, dir)
  T.eq(rc, 0, "generate records")
  local base = stripped(run("bench/regex_heavy.lua", data, 1))
  T.eq(#base, n_cpu, "rows with 1 worker")
  local scores = {}
  for _, line in ipairs(base) do scores[line:match('"score":([%d.e-]+)') or "none"] = true end
  local distinct = 0
  for _ in pairs(scores) do distinct = distinct + 1 end
  T.truthy(distinct >= 5, "scores vary (" .. distinct .. " distinct), so a mix-up would show")
  for _, w in ipairs({ 2, 4 }) do
    same_rows(base, stripped(run("bench/regex_heavy.lua", data, w)), "--workers " .. w)
  end
end)

T.case("LLM judge skill against the mock: rows identical for --workers 1, 2, 4", function()
  if not M.available() then
    io.stdout:write("SKIPPED (this case): srm-mock is not built\n")
    return
  end
  local mock <close> = M.start { threads = 2 }
  local recs = {}
  for i = 1, n_llm do
    local verdict = 1 + (i * 7) % 5
    local directives = "latency_ms=" .. ((i * 13) % 30)
    if i % 17 == 0 then directives = directives .. ",fail_first=1" end
    recs[i] = { id = "q" .. i, response = "answer " .. i,
      prompt = string.format('question %d [[mock:%s,reply={"score": %d, "reason": "r%d"}]]',
        i, directives, verdict, i) }
  end
  local data = C.write_jsonl(dir .. "/llm.jsonl", recs)
  local extra = { "--endpoint", mock.url, "--model", "mock", "--no-cache", "-j", "64", "--llm-retries", "3" }
  -- reset_stats makes the mock forget fail_first attempts, so every run sees the same faults
  mock.reset_stats()
  local base = stripped(run("tests/data/skills/llm_rubric.lua", data, 1, extra))
  T.eq(#base, n_llm, "rows with 1 worker")
  local ok = 0
  for _, line in ipairs(base) do if line:find('"status":"ok"', 1, true) then ok = ok + 1 end end
  T.eq(ok, n_llm, "every row ok")
  local retried = 0
  for _, line in ipairs(base) do if line:find('"retries":1', 1, true) then retried = retried + 1 end end
  T.eq(retried, n_llm // 17, "rows whose first attempt failed")
  for _, w in ipairs({ 2, 4 }) do
    mock.reset_stats()
    same_rows(base, stripped(run("tests/data/skills/llm_rubric.lua", data, w, extra)), "--workers " .. w)
  end
  T.eq(mock.stop(), "", "mock stderr")
end)

os.execute("rm -rf " .. C.quote(dir))
T.done()
