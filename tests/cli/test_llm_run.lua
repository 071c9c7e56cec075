-- srm run with model calls against srm-mock: a fault-injected run keeps exactly one row per
-- record, a dying endpoint fails over, a second run is served from the cache, and the API key
-- never shows up anywhere.
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")
local M = dofile("tests/lua/mocklib.lua")
M.require_mock()

local dir = C.tmpdir("llm-run")
local skill = "tests/data/skills/llm_rubric.lua"

local function records(n, tag)
  local recs = {}
  for i = 1, n do recs[i] = { id = i, prompt = "question " .. i .. " " .. tag, response = "answer " .. i } end
  return recs
end

local function run(args)
  local a = { "run", skill }
  for _, v in ipairs(args) do a[#a + 1] = v end
  a[#a + 1] = "--no-progress"
  return C.srm(a, dir)
end

T.case("fault run: one row per record, failures are judge_failed with a reason, attempts bounded", function()
  local mock <close> = M.start { fail_rate = 0.10, rate_429 = 0.05, retry_after = 1,
    reset_rate = 0.02, stall_rate = 0.01, stall_ms = 4000, malformed_rate = 0.01, seed = 11 }
  local n = 5000
  local data = C.write_jsonl(dir .. "/faults.jsonl", records(n, "faults"))
  local out = dir .. "/faults-out.jsonl"
  local code, _, err = run { data, "-o", out, "--endpoint", mock.url, "--model", "mock",
    "--llm-timeout", "1", "--llm-retries", "3", "-j", "256", "--no-cache" }
  T.eq(code, 0, "exit (" .. err .. ")")
  local rows = C.read_rows(out)
  local ids = C.by_id(rows) -- raises on duplicates
  T.eq(#rows, n, "rows")
  for i = 1, n do T.truthy(ids[i], "row for record " .. i) end
  local by = {}
  for _, r in ipairs(rows) do
    by[r.status] = (by[r.status] or 0) + 1
    T.truthy(r.status == "ok" or r.status == "judge_failed", "status " .. r.status)
    if r.status == "judge_failed" then T.truthy(#r.reason > 0, "a reason") end
    if r.status == "ok" then T.eq(r.score, 0.75, "score") end
  end
  T.truthy((by.ok or 0) > n * 0.95, "most rows ok after retries: " .. T.show(by))
  local attempts = tonumber(err:match("(%d+) HTTP attempts"))
  T.truthy(attempts and attempts >= n and attempts <= n * 5, "attempts reported and bounded: " .. tostring(attempts))
  T.truthy(mock.stats().requests <= n * 6, "requests the mock saw are bounded")
end)

T.case("failover: an endpoint killed mid-run costs no row", function()
  local a = M.start { latency_ms = 20 }
  local b <close> = M.start { latency_ms = 20 }
  local n = 3000
  local data = C.write_jsonl(dir .. "/failover.jsonl", records(n, "failover"))
  local out = dir .. "/failover-out.jsonl"
  -- Kill endpoint a after ~0.4 s, while the run is going (srm run takes ~1 s at -j 64).
  os.execute("(sleep 0.4; kill -9 " .. a.pid .. ") >/dev/null 2>&1 &")
  local code, _, err = run { data, "-o", out, "--endpoint", a.url, "--endpoint", b.url,
    "--model", "mock", "-j", "64", "--no-cache", "--llm-timeout", "2" }
  T.eq(code, 0, "exit (" .. err .. ")")
  local rows = C.read_rows(out)
  C.by_id(rows)
  T.eq(#rows, n, "rows")
  local failed = 0
  for _, r in ipairs(rows) do if r.status ~= "ok" then failed = failed + 1 end end
  T.eq(failed, 0, "judge_failed rows")
  T.truthy(b.stats().requests > n / 2, "b took over")
  a.stop()
end)

T.case("cache: a second identical run sends no request and gives the same rows", function()
  local mock <close> = M.start { latency_ms = 2 }
  local data = C.write_jsonl(dir .. "/cache.jsonl", records(300, "cache"))
  local out1, out2 = dir .. "/cache-1.jsonl", dir .. "/cache-2.jsonl"
  local cache = dir .. "/replies.sqlite"
  local code = run { data, "-o", out1, "--endpoint", mock.url, "--model", "mock", "--cache", cache }
  T.eq(code, 0, "first run")
  T.eq(mock.stats().requests, 300, "first run requests")
  mock.reset_stats()
  code = run { data, "-o", out2, "--endpoint", mock.url, "--model", "mock", "--cache", cache }
  T.eq(code, 0, "second run")
  T.eq(mock.stats().requests, 0, "second run sends nothing")
  local r1, r2 = C.read_rows(out1), C.read_rows(out2)
  for i = 1, #r1 do
    T.eq(r2[i].usage.cache_hits, 1, "cache hit counted")
    for _, r in ipairs({ r1[i], r2[i] }) do r.latency_ms, r.usage = nil, nil end
    T.eq(r2[i], r1[i], "row " .. i .. " apart from latency and usage")
  end
end)

T.case("independent judges of one record fan out: one round trip, not two", function()
  local mock <close> = M.start { latency_ms = 400 }
  local data = C.write_jsonl(dir .. "/two.jsonl", { { id = 1, prompt = "q", response = "a" } })
  local out = dir .. "/two-out.jsonl"
  local a = { "run", "tests/data/skills/two_judges.lua", data, "-o", out, "--endpoint", mock.url,
    "--model", "mock", "--no-cache", "--no-progress" }
  local code, _, err = C.srm(a, dir)
  T.eq(code, 0, "exit (" .. err .. ")")
  local row = C.read_rows(out)[1]
  T.eq(row.status, "ok")
  T.eq(row.usage.llm_calls, 2)
  T.eq(mock.stats().peak_in_flight, 2, "both calls were in flight together")
  T.truthy(row.latency_ms < 700, "one round trip (~400 ms), not two: " .. row.latency_ms)
end)

T.case("the API key appears in no row, log, error message or cache file", function()
  local key = "sk-srm-test-SECRET-7f3a9c"
  local mock <close> = M.start { require_key = key }
  local data = C.write_jsonl(dir .. "/key.jsonl", records(20, "key"))
  local out = dir .. "/key-out.jsonl"
  local cache = dir .. "/key.sqlite"
  local function run_with_key(k, o, cache_args)
    local cmd = "SRM_API_KEY=" .. C.quote(k) .. " " .. C.quote(C.bin) .. " run " .. skill .. " "
      .. C.quote(data) .. " -o " .. C.quote(o) .. " --overwrite --no-progress --endpoint "
      .. C.quote(mock.url) .. " --model mock " .. cache_args .. " 2>" .. C.quote(o .. ".err")
    os.execute(cmd)
    return C.read(o) or "", C.read(o .. ".err") or ""
  end
  local rows, log = run_with_key(key, out, "--cache " .. C.quote(cache))
  T.truthy(rows:find('"status":"ok"', 1, true), "the right key works")
  -- A wrong key: 401 errors must not echo either key.
  local wrong = "sk-srm-WRONG-key-1234"
  local rows2, log2 = run_with_key(wrong, out .. ".2", "--no-cache")
  T.truthy(rows2:find("judge_failed", 1, true), "a wrong key fails")
  for _, text in ipairs({ rows, log, rows2, log2, C.read(cache) or "" }) do
    T.truthy(not text:find(key, 1, true), "key leaked")
    T.truthy(not text:find(wrong, 1, true), "wrong key leaked")
  end
end)

T.done()
