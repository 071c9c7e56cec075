-- Escape and exhaustion suite (issue 9): every sandbox escape attempt and every resource
-- exhaustion case, listed in one place. Each attempt is one record of one `srm run`; the skill
-- (written below) runs the record's Lua source in the skill sandbox, or its shell script through
-- srm.code in the process sandbox. Every row must carry the expected status, later rows must
-- still score ok, and nothing may leak out (canary files, environment, processes, network).
-- Related single-purpose tests: tests/cli/test_sandbox.lua, test_code_sandbox.lua,
-- tests/lua/test_luabox.lua (srm.luabox's own box). Long versions of the exhaustion cases:
-- bench/run_exhaustion.sh.
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")
local json = require "srm.json"

local dir = C.tmpdir("escape-suite")
local CANARY = "srm-canary-" .. math.random(1e9)
local OUTSIDE = "/tmp/srm-escape-suite-" .. math.random(1e9)

-- The skill: `lua` records run their source with the sandbox's load (text only, the skill's
-- environment); `sh` records run a script in the process sandbox and check its outcome.
local SKILL = [=[
local srm = require "srm"
return srm.skill {
  name = "escape_suite",
  evidence = {
    attempt = function(record)
      if record.lua then
        local fn = assert(load(record.lua, "=" .. record.case))
        return fn()
      end
      local res = srm.code.run { cmd = { "sh", "-c", record.sh }, timeout = record.timeout or 3,
        memory_mb = 256, max_output = 1 << 16 }
      local got = res.status == "ok" and (res.stdout or "") or res.reason
      -- a fork bomb is contained whichever way it ends: killed at the deadline, its shell giving
      -- up when the process limit refuses a fork, or killed for the flood of "fork: Resource
      -- temporarily unavailable" messages passing the output cap
      if record.or_failed_exit and res.status == "ok" and (res.exit_code or 0) ~= 0 then
        got = record.expect
      end
      for _, alt in ipairs(record.also or {}) do
        if got == alt then got = record.expect end
      end
      if got ~= record.expect then
        error("contained badly: got " .. tostring(got) .. " (" .. tostring(res.message) .. "), want "
          .. record.expect)
      end
      return true
    end,
  },
  policy = "attempt",
}
]=]
local skill = C.write(dir .. "/escape_suite.lua", SKILL)

-- {case, expected status, Lua source}. Statuses: sandbox_error (a sandbox rule), skill_error
-- (plain Lua error: the thing does not exist), timeout (instruction budget), budget_exceeded
-- (memory). "ok" rows must score 1: the attempt found nothing.
local LUA = {
  { "string_dump", "skill_error", "return string.dump(function() end)" },
  { "string_dump_via_metatable", "skill_error", "return (''):dump()" },
  { "load_bytecode", "sandbox_error", "return load('\\27LuaT\\0\\25\\147\\r\\n\\26\\n', 'bc', 'b')" },
  { "load_bytecode_text_mode", "sandbox_error", "return load('\\27LuaT\\0\\25\\147\\r\\n\\26\\n')" },
  { "load_with_host_env", "ok", "local f = load('return io', 'x', 't', {}) return f() == nil" },
  { "debug_library", "sandbox_error", "return debug.getinfo(1)" },
  { "io_open", "sandbox_error", "return io.open('/etc/passwd'):read('a')" },
  { "os_execute", "sandbox_error", "return os.execute('id')" },
  { "os_exit", "sandbox_error", "os.exit(1)" },
  { "package_loadlib", "sandbox_error", "return package.loadlib('libc.so.6', 'system')" },
  { "require_io", "sandbox_error", "return require('io')" },
  { "require_debug", "sandbox_error", "return require('debug')" },
  { "require_c_module_proc", "sandbox_error", "return require('srm.proc')" },
  { "require_c_module_core", "sandbox_error", "return require('srm.core')" },
  { "require_luabox", "sandbox_error", "return require('srm.luabox').run('return 1')" },
  { "require_testhook", "sandbox_error", "return require('srm.testhook').fail_after(0)" },
  { "require_path_trick", "sandbox_error", "return require('../../etc/passwd')" },
  { "string_metatable", "skill_error", "getmetatable('').__index = {upper = function() return 'pwned' end}" },
  { "string_metatable_still_intact", "ok", "return ('abc'):upper() == 'ABC' and getmetatable('') ~= nil" },
  { "setmetatable_env", "skill_error", "setmetatable(_ENV, {})" },
  { "setmetatable_library_view", "skill_error", "setmetatable(string, {})" },
  { "rawset_on_library_view", "sandbox_error", "rawset(string, 'upper', function() return 'pwned' end)" },
  { "modify_library", "sandbox_error", "string.upper = function() return 'pwned' end" },
  { "modify_nested_library", "sandbox_error", "require('srm').re.find = nil" },
  { "library_still_intact", "ok", "return string.upper('a') == 'A' and rawget(string, 'upper') == nil" },
  { "global_assignment", "sandbox_error", "leaked = 1" },
  { "env_global_via__G", "sandbox_error", "return _G.io" },
  { "env_replacement", "ok", "local _ENV = {print = print} return io == nil" },
  { "getfenv", "sandbox_error", "return getfenv(1)" },
  { "collectgarbage", "sandbox_error", "collectgarbage('stop')" },
  { "coroutine_to_skip_budget", "sandbox_error", "return coroutine.wrap(function() while true do end end)()" },
  { "hidden_function_via_pairs", "ok", "for k in pairs(require('srm').re) do if k == 'set_limits' then return false end end return true" },
  { "hidden_function_via_rawget", "ok", "return rawget(require('srm').re, 'set_limits') == nil" },
  { "hidden_function_direct", "sandbox_error", "return require('srm').re.set_limits {match = 4e9}" },
  { "llm_configure", "sandbox_error", "return require('srm').llm.configure {}" },
  { "infinite_loop", "timeout", "while true do end" },
  { "infinite_loop_in_pcall", "timeout", "while true do pcall(function() while true do end end) end" },
  { "loop_in_error_handler", "timeout", "return xpcall(error, function() while true do end end)" },
  { "loop_in_error_handler_after_budget_error", "timeout",
    "while true do xpcall(function() while true do end end, function() while true do end end) end" },
  { "xpcall_still_works", "ok", "local ok, m = xpcall(function(a) error({ code = a }) end, function(e) return 'handled ' .. e.code end, 'x') "
    .. "assert(not ok and m == 'handled x') "
    .. "local ok2, a, b = xpcall(function(x, y) return x + y, 'z' end, print, 1, 2) assert(ok2 and a == 3 and b == 'z') "
    .. "local ok3, m3 = xpcall(error, function() error('inner') end) assert(not ok3 and tostring(m3):find('inner')) "
    .. "assert(not pcall(xpcall, error, nil)) return 1" },
  { "loop_in_sort_comparator", "timeout", "local t = {3, 2, 1, 5, 4} table.sort(t, function() while true do end end)" },
  { "loop_in_gsub_callback", "timeout", "return ('aaaa'):gsub('a', function() while true do end end)" },
  { "memory_bomb", "budget_exceeded", "local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(1000) .. i end" },
  { "huge_rep", "budget_exceeded", "return #string.rep('x', 1 << 30)" },
  -- ended in its first round: the memory budget is checked at the instruction after the first
  -- real refusal (it once ran on under ASan when Lua could not grow the stack to call the check)
  { "allocate_in_loop_inside_pcall", "budget_exceeded",
    "for _ = 1, 100 do pcall(function() local t = {} for i = 1, 1e9 do t[i] = ('y'):rep(1000) .. i end end) end return 1" },
  { "finalizer_loop", "sandbox_error",
    "setmetatable({}, {__gc = function() while true do end end}) return true" },
  { "error_object_tostring_loop", "skill_error",
    "error(setmetatable({}, {__tostring = function() while true do end end}))" },
  { "error_object_index_loop", "timeout",
    "error(setmetatable({}, {__index = function() while true do end end}))" },
}

-- {case, what code.run reports, shell script, expected stdout (when the program ran to its end)
-- or reason (sandbox_error)}: the process sandbox. The row is ok when the outcome matched.
local SH = {
  { "fork_bomb", "sandbox_error", "f() { f | f & }; f; sleep 30", "timeout", or_failed_exit = true,
    also = { "output_limit" } },
  { "infinite_loop", "sandbox_error", "while :; do :; done", "timeout" },
  { "memory_bomb", "sandbox_error", "python3 -c 'b = bytearray(4 << 30); print(len(b))'", "memory" },
  { "huge_output", "sandbox_error", "yes", "output_limit" },
  { "proc_1_environ", "ok", "cat /proc/1/environ /proc/self/environ 2>/dev/null | tr '\\0' '\\n' | grep -c " .. CANARY .. " || true", "0\n" },
  { "parent_environment", "ok", "cat /proc/$PPID/environ 2>/dev/null | tr '\\0' '\\n' | grep -c " .. CANARY .. "; env | grep -c " .. CANARY .. " || true", "0\n0\n" },
  { "network_connect", "ok", "python3 -c \"import socket\ntry:\n socket.create_connection(('127.0.0.1', PORT), 2); print('connected')\nexcept OSError: print('refused')\"", "refused\n" },
  { "write_outside_tmp", "ok", "echo x > " .. OUTSIDE .. " 2>/dev/null; echo x >> /etc/passwd 2>/dev/null || echo denied", "denied\n" },
  { "ptrace_parent", "ok", "python3 -c 'import ctypes, os; print(ctypes.CDLL(None).ptrace(16, HOSTPID, 0, 0))'", "-1\n" },
  { "setuid_root_write", "ok", "python3 -c \"import os\ntry:\n os.setuid(0); open('/etc/shadow').read(1); print('read shadow')\nexcept OSError: print('denied')\"", "denied\n" },
  { "child_outlives_timeout", "sandbox_error", "setsid sh -c 'sleep 31.4159' & nohup sleep 31.4159 & sleep 60", "timeout" },
}

-- A loopback listener outside the sandbox for network_connect.
local port, listener_verdict = T.listener(20)

-- Known open findings (see docs/reliability.md) are marked `open = true`: they hang srm, so they
-- run only with SRM_ESCAPE_OPEN=1 until fixed. None is open now (both findings so far, a __gc
-- finalizer and a loop in an xpcall message handler, are fixed and run above).
local run_open = os.getenv("SRM_ESCAPE_OPEN") == "1"
local host_pid = tonumber(io.popen("echo $PPID"):read("l")) -- this test process, outside the sandbox
local records, expect = {}, {}
local function add(r, status)
  r.id = #records + 1
  records[#records + 1] = r
  expect[#expect + 1] = { r.case, status }
  records[#records + 1] = { id = #records + 1, case = "ok_after_" .. r.case, lua = "return true" }
  expect[#expect + 1] = { "ok_after_" .. r.case, "ok" }
end
for _, a in ipairs(LUA) do
  if a.open and not run_open then
    io.stdout:write("KNOWN OPEN (not run; SRM_ESCAPE_OPEN=1 runs it): lua:" .. a[1] .. "\n")
  else
    add({ case = "lua:" .. a[1], lua = a[3] }, a[2])
  end
end
for _, a in ipairs(SH) do
  add({ case = "proc:" .. a[1], sh = a[3]:gsub("PORT", tostring(port)):gsub("HOSTPID", tostring(host_pid)), expect = a[4], or_failed_exit = a.or_failed_exit, also = a.also,
        timeout = a[1] == "child_outlives_timeout" and 1 or nil }, "ok")
end
local data = C.write_jsonl(dir .. "/attempts.jsonl", records)
local out = dir .. "/rows.jsonl"

local cmd = "env SRM_ESCAPE_CANARY=" .. CANARY .. " " .. C.quote(C.bin) .. " run " .. C.quote(skill) .. " "
  .. C.quote(data) .. " -o " .. C.quote(out) .. " --no-progress --max-instructions 20000000"
  .. " --max-memory 256 --timeout 20 -j 8 >" .. C.quote(dir .. "/.stdout") .. " 2>" .. C.quote(dir .. "/.stderr")
local ok = os.execute(cmd)
local stderr = C.read(dir .. "/.stderr") or ""

T.case("the suite runs to the end with exit code 0", function() T.truthy(ok, "srm run failed: " .. stderr) end)
T.case(string.format("at least 20 Lua and 10 process attempts (%d, %d)", #LUA, #SH), function()
  T.truthy(#LUA >= 20 and #SH >= 10, "attempt counts")
end)

local rows = C.read_rows(out)
T.case("one row per record, in order", function()
  T.eq(#rows, #records, "rows")
  for i, r in ipairs(rows) do T.eq(r.id, i, "row id") end
end)

for i, e in ipairs(expect) do
  local case, status = e[1], e[2]
  if not case:match("^ok_after_") or (rows[i] and rows[i].status ~= "ok") then
    T.case(case .. " -> " .. status, function()
      local r = rows[i]
      T.eq(r.status, status, case .. " status (reason: " .. tostring(r.reason) .. ")")
      if status == "ok" then
        T.eq(r.score, 1, case .. " score")
      else
        T.eq(r.score, nil, case .. ": a failed attempt never scores")
        T.truthy(type(r.reason) == "string" and #r.reason > 0, case .. " has a reason")
      end
    end)
  end
end

T.case("later rows unaffected: every ok_after row scored 1", function()
  local bad = {}
  for i, e in ipairs(expect) do
    if e[1]:match("^ok_after_") and (rows[i].status ~= "ok" or rows[i].score ~= 1) then bad[#bad + 1] = e[1] end
  end
  T.eq(bad, {}, "rows after an attempt that did not score ok")
end)

T.case("nothing escaped: no canary file, no surviving child, no connection", function()
  T.eq(io.open(OUTSIDE, "r"), nil, OUTSIDE .. " must not exist")
  local p = io.popen("pgrep -f 'slee[p] 31.4159' | wc -l")
  local n = tonumber(p:read("l"))
  p:close()
  T.eq(n, 0, "children left running after the timeout")
  os.execute("python3 -c \"import socket; socket.create_connection(('127.0.0.1', " .. port .. "), 2)\" 2>/dev/null")
  T.eq(listener_verdict(), "connected", "the listener's only connection is the test's own")
end)

T.case("the canary never shows up in rows or stderr", function()
  T.eq((C.read(out) or ""):find(CANARY, 1, true), nil, "rows")
  T.eq(stderr:find(CANARY, 1, true), nil, "stderr")
end)

-- ---- Exhaustion: large and hostile inputs, streamed through pipes (never files on disk) ----
-- Long versions: bench/run_exhaustion.sh (100,000 records of 1 MB).
local EX_SKILL = C.write(dir .. "/exhaust.lua", [=[
local srm = require "srm"
return srm.skill {
  name = "exhaust",
  evidence = {
    check = function(record)
      if record.pat then return srm.re.test(record.subject, record.pat) end
      return #record.response == record.len
    end,
  },
  policy = "check",
}
]=])
local GEN = C.write(dir .. "/gen.lua", [=[
-- srm lua gen.lua KIND N: writes records to stdout
local kind, n = arg[1], tonumber(arg[2])
local out = io.stdout
if kind == "mb" then
  local body = string.rep("y", (1 << 20) - 8)
  for i = 1, n do
    out:write('{"id":', i, ',"len":', #body + 8, ',"response":"', body, string.format("%08d", i), '"}\n')
  end
elseif kind == "regex" then
  for i = 1, n do
    out:write(string.format('{"id":%d,"pat":"^a%db(?:c|d%d)$","subject":"a%dbc"}\n', i, i, i, i))
  end
elseif kind == "deep" then
  out:write('{"id":1,"x":', string.rep("[", n), string.rep("]", n), '}\n{"id":2,"pat":"a","subject":"a"}\n')
end
]=])

-- Runs `producer | srm run EX_SKILL - -o OUT ARGS` under /usr/bin/time; returns exit code, rows,
-- peak RSS in MiB, seconds.
local function piped(name, producer, args)
  local o = dir .. "/" .. name .. ".jsonl"
  local tf = dir .. "/" .. name .. ".time"
  local cmd = "set -o pipefail 2>/dev/null; " .. producer .. " | /usr/bin/time -f '%M %e' -o " .. C.quote(tf) .. " "
    .. C.quote(C.bin) .. " run " .. C.quote(EX_SKILL) .. " - -o " .. C.quote(o) .. " --no-progress "
    .. (args or "") .. " 2>" .. C.quote(dir .. "/" .. name .. ".stderr")
  local ok, how, code = os.execute("bash -c " .. C.quote(cmd))
  if how ~= "exit" then code = 128 + (code or 0) end
  local kib, secs = (C.read(tf) or ""):match("(%d+) ([%d.]+)")
  io.stdout:write(string.format("exhaustion %s: exit %s, peak RSS %.1f MiB, %.1f s\n", name,
    tostring(code), (tonumber(kib) or 0) / 1024, tonumber(secs) or 0))
  return code, C.read_rows(o), (tonumber(kib) or 0) / 1024, tonumber(secs)
end
local gen = C.quote(C.bin) .. " lua " .. C.quote(GEN)
-- Sanitizer builds keep freed memory in quarantine (ASan: 256 MiB by default): allow for it.
local ldd = io.popen("ldd " .. C.quote(C.bin) .. " 2>/dev/null")
local SLACK = (ldd:read("a") or ""):find("lib[at]san") and 400 or 0
ldd:close()
local N_MB = tonumber(os.getenv("SRM_EXHAUST_MB_RECORDS") or "") or 300

T.case(N_MB .. " records of 1 MiB streamed through a pipe in bounded memory", function()
  local code, rows, mib = piped("mb", gen .. " mb " .. N_MB, "-j 16")
  T.eq(code, 0, "exit")
  T.eq(#rows, N_MB, "rows")
  for i, r in ipairs(rows) do
    if r.id ~= i or r.status ~= "ok" or r.score ~= 1 then error("row " .. i .. ": " .. json.encode(r)) end
  end
  T.truthy(mib < 200 + SLACK, "peak RSS " .. mib .. " MiB stays far below the " .. N_MB .. " MiB streamed")
end)

T.case("10,000 distinct regexes (the compiled-regex cache evicts)", function()
  local code, rows, mib = piped("regex", gen .. " regex 10000", "-j 64")
  T.eq(code, 0, "exit")
  T.eq(#rows, 10000, "rows")
  local ok = 0
  for _, r in ipairs(rows) do if r.status == "ok" and r.score == 1 then ok = ok + 1 end end
  T.eq(ok, 10000, "every regex matched its subject")
  T.truthy(mib < 150 + SLACK, "peak RSS " .. mib .. " MiB")
end)

T.case("JSON nested 100,000 deep: an input_error row, the next record scores", function()
  local code, rows = piped("deep", gen .. " deep 100000")
  T.eq(code, 0, "exit")
  T.eq(#rows, 2, "rows")
  T.eq(rows[1].status, "input_error", "deep record: " .. tostring(rows[1].reason))
  T.eq({ rows[2].status, rows[2].score }, { "ok", 1 }, "next record")
  local v, msg, c = json.decode(string.rep("[", 100000) .. string.rep("]", 100000))
  T.eq({ v, c }, { nil, "BAD_JSON" }, "json.decode refuses it: " .. tostring(msg))
end)

T.case("a 1 GiB line through a pipe is rejected cleanly in bounded memory", function()
  local producer = "{ printf '{\"id\":1,\"response\":\"'; head -c 1073741824 /dev/zero | tr '\\0' a; "
    .. "printf '\"}\\n{\"id\":2,\"pat\":\"b\",\"subject\":\"b\"}\\n'; }"
  local code, rows, mib = piped("gib", producer)
  T.eq(code, 0, "exit")
  T.eq(#rows, 2, "rows")
  T.eq(rows[1].status, "input_error", "the long line")
  T.truthy(tostring(rows[1].reason):find("max%-line%-bytes") or tostring(rows[1].reason):find("long"),
    "reason names the limit: " .. tostring(rows[1].reason))
  T.eq({ rows[2].id, rows[2].status, rows[2].score }, { 2, "ok", 1 }, "the next line")
  T.truthy(mib < 200 + SLACK, "peak RSS " .. mib .. " MiB for a 1024 MiB line")
end)

os.execute("rm -rf " .. C.quote(dir))
T.done()
