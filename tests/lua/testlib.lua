-- Minimal helpers for the Lua-level tests. Each test script runs under `srm lua` from the
-- project root: local T = dofile("tests/lua/testlib.lua").
local T = {}
local failures, count = 0, 0

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) ~= "table" then return tostring(v) end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k) .. "=" .. show(v[k]) end
  return "{" .. table.concat(parts, ", ") .. "}"
end
T.show = show

local function deep_equal(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in pairs(a) do if not deep_equal(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end
T.deep_equal = deep_equal

-- Raises when actual differs from expected (deep comparison for tables).
function T.eq(actual, expected, what)
  if not deep_equal(actual, expected) then
    error(string.format("%s: expected %s, got %s", what or "value", show(expected), show(actual)), 2)
  end
end

function T.near(actual, expected, tol, what)
  if type(actual) ~= "number" or math.abs(actual - expected) > (tol or 1e-9) then
    error(string.format("%s: expected %s, got %s", what or "value", show(expected), show(actual)), 2)
  end
end

function T.truthy(v, what)
  if not v then error((what or "condition") .. " is false", 2) end
end

-- Raises unless fn raises an error whose message contains pattern (plain text).
function T.raises(fn, pattern, what)
  local ok, err = pcall(fn)
  if ok then error((what or "call") .. " did not raise", 2) end
  if pattern and not tostring(err):find(pattern, 1, true) then
    error(string.format("%s raised %q, expected it to mention %q", what or "call", tostring(err), pattern), 2)
  end
  return err
end

-- Whether a file exists (and can be opened).
function T.exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- Skips the whole script (exit 77) unless python3 is where srm.code's sandbox PATH finds it.
function T.require_python(script)
  if not (T.exists("/usr/bin/python3") or T.exists("/bin/python3")) then
    print("SKIPPED: " .. script .. " needs python3 in /usr/bin or /bin (the sandbox's PATH)")
    os.exit(77)
  end
end

function T.case(name, fn)
  count = count + 1
  local ok, err = xpcall(fn, debug.traceback)
  if not ok then
    failures = failures + 1
    io.stderr:write("FAIL ", name, ": ", tostring(err), "\n")
  end
end

-- Ends the script: raises (non-zero exit) if any case failed or none ran.
function T.done()
  io.stdout:write(string.format("%d/%d passed\n", count - failures, count))
  if count == 0 then error("no test cases ran", 0) end
  if failures > 0 then error(failures .. " test case(s) failed", 0) end
end

-- T.skip_rest(why): a case found data it needs missing; T.done_or_skip() then ends the script as
-- skipped (ctest's 77) once every case that did run passed, saying why, and as failed otherwise.
local skipped_because
function T.skip_rest(why) skipped_because = why end
function T.done_or_skip()
  if not skipped_because then return T.done() end
  io.stdout:write("SKIPPED: " .. skipped_because .. "\n")
  local ok = pcall(T.done)
  os.exit(ok and 77 or 1)
end

-- T.listener(seconds) -> port, verdict: a loopback TCP listener outside any sandbox, for tests
-- that a sandboxed program cannot connect out. verdict() waits (at most `seconds` from the
-- start) and returns "connected" if anything connected, else "nobody".
function T.listener(seconds)
  local p = io.popen([[python3 -c "
import socket
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(5); s.settimeout(]] .. tostring(seconds) .. [[)
print(s.getsockname()[1], flush=True)
try:
    s.accept(); print('connected')
except OSError:
    print('nobody')
"]], "r")
  local port = tonumber(p:read("l"))
  return port, function()
    local v = p:read("l")
    p:close()
    return v
  end
end

return T
