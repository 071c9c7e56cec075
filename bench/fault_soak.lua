-- Fault soak driver (bench/run_fault_soak.sh): srm run --watch reads records from a FIFO for
-- MINUTES while two srm-mock endpoints inject faults (5xx, 429 with Retry-After, resets,
-- stalls, malformed and truncated bodies), endpoint A goes down and comes back up, and the skill
-- is edited (hot reload) every 10 s. Checks zero lost rows and bounded retries, samples RSS.
--   SRM_MOCK_BIN=... srm lua bench/fault_soak.lua SRM_BIN MINUTES [RATE records/s]
local C = dofile("tests/cli/clilib.lua")
local M = dofile("tests/lua/mocklib.lua")
local core = require "srm.core"
local json = require "srm.json"
M.require_mock()

C.bin = arg[1] or C.bin
local minutes = tonumber(arg[2] or "30")
local rate = tonumber(arg[3] or "200")
local dir = C.tmpdir("fault-soak")
local faults = { fail_rate = 0.05, rate_429 = 0.03, retry_after = 1, reset_rate = 0.02,
  stall_rate = 0.005, stall_ms = 3000, malformed_rate = 0.01, truncated_rate = 0.01, latency_ms = 5 }
local function start_mock(port, seed)
  local o = { seed = seed }
  for k, v in pairs(faults) do o[k] = v end
  if port then o[1], o[2] = "--port", tostring(port) end
  return M.start(o)
end
local a = start_mock(nil, 1)
local b = start_mock(nil, 2)
local a_port = a.port

local skill_src = [[
local srm = require "srm"
-- generation marker: %d
return srm.skill {
  name = "soak",
  evidence = { quality = srm.judge.rubric { rubric_text = "Grade helpfulness.", scale = { 1, 5 } } },
  policy = "quality",
}
]]
local skill = C.write(dir .. "/soak.lua", skill_src:format(0))
local fifo = dir .. "/in.fifo"
assert(os.execute("mkfifo " .. C.quote(fifo)))
local out = dir .. "/rows.jsonl"
local h = C.spawn({ "run", skill, fifo, "-o", out, "--watch", "--endpoint", a.url, "--endpoint", b.url,
  "--model", "mock", "--llm-timeout", "2", "--llm-retries", "4", "--no-cache", "-j", "64",
  "--no-progress" }, dir)
local pid = h.pid()
local w = assert(io.open(fifo, "wb"))
w:setvbuf("line")

local function rss_mib()
  local s = C.read("/proc/" .. pid .. "/status") or ""
  return (tonumber(s:match("VmRSS:%s+(%d+)")) or 0) / 1024
end

local t0 = core.now()
local stop_at = t0 + minutes * 60
local sent, gen, next_reload, next_sample, a_down_at, a_up_at = 0, 0, t0 + 10, t0, t0 + 20, nil
local samples = {}
while core.now() < stop_at do
  local now = core.now()
  local due = math.floor((now - t0) * rate)
  while sent < due do
    sent = sent + 1
    w:write(json.encode({ id = sent, prompt = "question " .. sent .. " " .. gen, response = "answer " .. sent }), "\n")
  end
  if now >= next_reload then
    gen = gen + 1
    C.write(skill .. ".tmp", skill_src:format(gen))
    os.rename(skill .. ".tmp", skill)
    next_reload = next_reload + 10
  end
  if a_down_at and now >= a_down_at then
    a.kill()
    a_down_at, a_up_at = nil, now + 10
  elseif a_up_at and now >= a_up_at then
    a = start_mock(a_port, 3 + gen)
    a_up_at, a_down_at = nil, now + 20
  end
  if now >= next_sample then
    samples[#samples + 1] = { now - t0, rss_mib(), sent }
    next_sample = next_sample + 5
  end
  core.sleep(0.02)
end
w:close()
local code, _, err = h:wait(120)
local rows = C.read_rows(out)
local ids, dup = {}, 0
local by, gens = {}, {}
for _, r in ipairs(rows) do
  if ids[r.id] then dup = dup + 1 end
  ids[r.id] = true
  by[r.status] = (by[r.status] or 0) + 1
  if r.skill and r.skill.generation then gens[r.skill.generation] = true end
end
local ngen = 0
for _ in pairs(gens) do ngen = ngen + 1 end
local lost = 0
for i = 1, sent do if not ids[i] then lost = lost + 1 end end
local attempts = tonumber((err or ""):match("(%d+) HTTP attempts")) or -1

print(string.format("## Fault soak: %g min, %d records/s offered\n", minutes, rate))
print("| records sent | rows | lost | duplicated | ok | judge_failed | other | HTTP attempts | attempts/record | exit |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
local other = #rows - (by.ok or 0) - (by.judge_failed or 0)
print(string.format("| %d | %d | %d | %d | %d | %d | %d | %d | %.2f | %s |", sent, #rows, lost, dup,
  by.ok or 0, by.judge_failed or 0, other, attempts, attempts / math.max(sent, 1), tostring(code)))
print("\n| t (s) | srm RSS (MiB) | records sent |\n|---:|---:|---:|")
for _, s in ipairs(samples) do print(string.format("| %.0f | %.1f | %d |", s[1], s[2], s[3])) end
print(string.format("\nskill edits: %d; skill generations seen in rows: %d; endpoint A down 10 s in every 30 s", gen, ngen))
a.stop()
b.stop()
local okrun = code == 0 and lost == 0 and dup == 0 and attempts <= sent * 5 and ngen >= gen
print(okrun and "PASS" or "FAIL")
if not okrun then
  io.stderr:write((err or ""):sub(-3000), "\n")
  os.exit(1)
end
os.execute("rm -rf " .. C.quote(dir))
