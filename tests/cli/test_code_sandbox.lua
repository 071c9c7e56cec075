-- srm.code through `srm run`: the containment cases of issue 4 as records of one run (each row
-- with its own outcome, later rows unaffected, nothing left running), a record killed by its
-- deadline while its program runs, code.tests over MBPP-shaped records, and 200 sandboxed
-- `sleep 0.5` runs with -j 200 finishing far sooner than 200 x 0.5 s.
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")
local core = require "srm.core"

local exists = T.exists
T.require_python("test_code_sandbox")

local dir = C.tmpdir("code")
os.remove("/tmp/srm-cli-escape")

-- Runs srm with extra environment assignments; returns exit code, stderr, seconds taken.
local function srm_env(env, args)
  local quoted = {}
  for i, a in ipairs(args) do quoted[i] = C.quote(a) end
  local err = dir .. "/.stderr"
  local t0 = core.now()
  -- the shell records srm's pid (its working directories are named after it), then becomes srm
  local ok, how, code = os.execute("sh -c 'echo $$ >" .. dir .. "/.srm_pid; exec \"$0\" \"$@\"' env "
    .. env .. " " .. C.quote(C.bin) .. " " .. table.concat(quoted, " ")
    .. " >" .. C.quote(dir .. "/.stdout") .. " 2>" .. C.quote(err))
  if how ~= "exit" then code = 128 + (code or 0) end
  return code, C.read(err) or "", core.now() - t0
end

local function count_processes(pattern)
  local f = io.popen("pgrep -f " .. C.quote(pattern) .. " | wc -l")
  local n = tonumber(f:read("l"))
  f:close()
  return n
end

-- A loopback listener outside the sandbox.
local port, listener_verdict = T.listener(8)

local expected = {
  { "normal", "ok", nil, "42\n" },
  { "fork_bomb", "sandbox_error", "timeout" },
  { "normal", "ok", nil, "42\n" },
  { "infinite_loop", "sandbox_error", "timeout" },
  { "allocate_4gib", "sandbox_error", "memory" },
  { "output_100mb", "sandbox_error", "output_limit" },
  { "write_outside", "ok", nil, "denied\n" },
  { "environment", "ok", nil, "none\nhidden\n" },
  { "connect", "ok", nil, "refused\n" },
  { "sleep_forever", "timeout" },
  { "normal", "ok", nil, "42\n" },
}
local records = {}
for i, e in ipairs(expected) do records[i] = { id = i, case = e[1], expect = e[4], port = port } end
local data = C.write_jsonl(dir .. "/cases.jsonl", records)
local out = dir .. "/rows.jsonl"
local code, stderr = srm_env("SRM_SECRET=hunter2", { "run", "tests/data/code/cases.lua", data,
  "-o", out, "--timeout", "4", "--no-progress" })
local verdict = listener_verdict()

T.case("the containment run completes", function()
  T.eq(code, 0, "exit code (stderr: " .. stderr .. ")")
end)

local rows = C.read_rows(out)
for i, e in ipairs(expected) do
  T.case(string.format("row %d (%s): %s %s", i, e[1], e[2], e[3] or ""), function()
    local r = rows[i]
    T.eq(r.id, i)
    T.eq(r.status, e[2], e[1] .. " status (reason: " .. tostring(r.reason) .. ")")
    if e[2] == "ok" then
      T.eq(r.score, 1, e[1] .. " score (stdout: " .. tostring(r.components.sandbox.detail.stdout) .. ")")
    elseif e[3] then
      T.eq(r.components.sandbox.reason, e[3], e[1] .. " reason")
    end
  end)
end

T.case("nothing escaped: no file, no connection, no process left", function()
  T.eq(exists("/tmp/srm-cli-escape"), false, "file written outside")
  T.eq(verdict, "nobody", "listener verdict")
  T.eq(count_processes("[s]leep 31337"), 0, "sleep left running")
  -- Directories this test's srm left behind (srm-code-<pid>-...; other tests, running at the
  -- same time, have their own pids).
  local mine = (C.read(dir .. "/.srm_pid") or ""):match("%d+")
  T.truthy(mine, "srm's pid was recorded")
  local n = 0
  local f = io.popen("ls /tmp")
  for name in f:lines() do
    if name:match("^srm%-code%-(%d+)%-") == mine then n = n + 1 end
  end
  f:close()
  T.eq(n, 0, "working directories left in /tmp")
end)

T.case("code.tests over MBPP-shaped records", function()
  local mout = dir .. "/mbpp.jsonl"
  local c, err = srm_env("", { "run", "tests/data/code/mbpp.lua", "tests/data/code/mbpp.jsonl",
    "-o", mout, "--no-progress" })
  T.eq(c, 0, "exit code (stderr: " .. err .. ")")
  local by = C.by_id(C.read_rows(mout))
  T.eq(by.right.score, 1)
  T.eq(by.wrong.score, 0.5)
  T.eq(by.loops.status, "sandbox_error")
  T.truthy(by.loops.components.tests.reason:find("timeout", 1, true), by.loops.components.tests.reason)
  T.eq(by.exit.score, 0)
  T.eq(by.no_tests.status, "input_error")
end)

T.case("200 sandboxed sleeps of 0.5 s overlap with -j 200", function()
  local recs = {}
  for i = 1, 200 do recs[i] = { id = i } end
  local sdata = C.write_jsonl(dir .. "/sleep.jsonl", recs)
  local sout = dir .. "/sleep-rows.jsonl"
  local c, err, took = srm_env("", { "run", "tests/data/code/sleep.lua", sdata, "-o", sout,
    "-j", "200", "--no-progress" })
  T.eq(c, 0, "exit code (stderr: " .. err .. ")")
  local srows = C.read_rows(sout)
  T.eq(#srows, 200)
  for _, r in ipairs(srows) do T.eq(r.score, 1, "row " .. r.id .. " (" .. tostring(r.reason) .. ")") end
  io.stdout:write(string.format("200 x sleep 0.5 in %.2f s\n", took))
  T.truthy(took < 10, "took " .. took .. " s (serial would be 100 s)")
end)

T.done()
