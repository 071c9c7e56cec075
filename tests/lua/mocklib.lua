-- Starts and stops srm-mock (tests/mock), the loopback OpenAI-compatible server, from test
-- scripts run under `srm lua`:
--
--   local M = dofile("tests/lua/mocklib.lua")
--   M.require_mock()                          -- exit 77 (skipped) when srm-mock is not built
--   local mock = M.start{latency_ms = 50, fail_rate = 0.1, seed = 3}
--   ... point the client at mock.url ("http://127.0.0.1:PORT/v1") ...
--   local s = mock.stats()                    -- decoded GET /stats
--   local log = mock.stop()                   -- SIGTERM, wait; returns the mock's stderr
--
-- The binary comes from SRM_MOCK_BIN (set by tests/CMakeLists.txt). Each mock listens on a free
-- port (written to a port file), so tests can run in parallel, and exits by itself when the
-- test process goes away (--parent-pid).
local json = require "srm.json"

local M = {}

M.bin = os.getenv("SRM_MOCK_BIN")
local tmp_root = os.getenv("SRM_TEST_TMP") or "/tmp/srm-tests"

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
M.quote = quote

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function sh(cmd)
  local ok, how, code = os.execute(cmd)
  if how ~= "exit" then return 128 + (code or 0) end
  return code
end

local function sleep(seconds)
  os.execute("sleep " .. string.format("%.3f", seconds))
end

-- Runs a command; returns its stdout.
local function capture(cmd)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  p:close()
  return out
end

-- Our own process id: the parent of the shell io.popen starts.
local self_pid = tonumber(capture("echo $PPID"))

-- Named options of M.start and the srm-mock flags they become.
local FLAGS = {
  host = "--host", require_key = "--require-key", reply = "--reply",
  reply_bytes = "--reply-bytes", latency_ms = "--latency-ms", fail_rate = "--fail-rate",
  rate_429 = "--rate-429", retry_after = "--retry-after", reset_rate = "--reset-rate",
  stall_rate = "--stall-rate", stall_ms = "--stall-ms", malformed_rate = "--malformed-rate",
  truncated_rate = "--truncated-rate", seed = "--seed", threads = "--threads",
  max_body = "--max-body", idle_timeout = "--idle-timeout", model = "--model",
}

function M.available()
  return M.bin ~= nil and M.bin ~= "" and sh("test -x " .. quote(M.bin)) == 0
end

-- Ends the script as skipped (exit 77) when srm-mock is not available.
function M.require_mock()
  if M.available() then return end
  io.stdout:write("SKIPPED: srm-mock is not built (SRM_MOCK_BIN unset or missing; ",
    "install libmicrohttpd-dev and re-run cmake)\n")
  os.exit(77)
end

-- Is the process alive (and not a zombie)?
local function alive(pid)
  local stat = read("/proc/" .. pid .. "/stat")
  if not stat then return false end
  local state = stat:match("^%d+ %b() (%a)")
  return state ~= nil and state ~= "Z" and state ~= "X"
end

-- curl with a method, body and headers against the mock. Returns {status, body, exit, headers,
-- time}; status is 0 when no HTTP reply came (exit is curl's exit code: 52 empty reply, 56 reset,
-- 28 timeout, 18 truncated body).
local function request(base, o)
  local dir = o.dir
  local bodyfile, outfile, hdrfile = dir .. "/req.body", dir .. "/resp.body", dir .. "/resp.hdr"
  local args = {"curl", "-s", "-S", "-o", quote(outfile), "-D", quote(hdrfile),
    "-w", quote("%{http_code} %{time_total}")}
  if o.method then args[#args + 1] = "-X " .. quote(o.method) end
  if o.body then
    local f = assert(io.open(bodyfile, "wb"))
    f:write(o.body)
    f:close()
    args[#args + 1] = "--data-binary @" .. quote(bodyfile)
    args[#args + 1] = "-H 'Content-Type: application/json'"
  end
  for _, h in ipairs(o.headers or {}) do args[#args + 1] = "-H " .. quote(h) end
  if o.timeout then args[#args + 1] = "-m " .. tostring(o.timeout) end
  args[#args + 1] = quote(base .. (o.path or "/v1/chat/completions"))
  os.remove(outfile)
  os.remove(hdrfile)
  local p = assert(io.popen(table.concat(args, " ") .. " 2>/dev/null; echo \" $?\"", "r"))
  local out = p:read("a")
  p:close()
  local code, secs, exit = out:match("^(%d+) ([%d.]+)%s+(%d+)")
  local headers = {}
  for line in (read(hdrfile) or ""):gmatch("[^\r\n]+") do
    local k, v = line:match("^([^:]+):%s*(.-)%s*$")
    if k then headers[k:lower()] = v end
  end
  return {status = tonumber(code) or 0, body = read(outfile) or "", exit = tonumber(exit),
          headers = headers, time = tonumber(secs)}
end

-- M.start{opts} -> mock. opts: the named options of FLAGS (e.g. latency_ms = 50) and/or raw
-- srm-mock arguments as array items. Raises when the mock does not come up within 10 s.
-- mock = {url = "http://127.0.0.1:PORT/v1", base = "http://127.0.0.1:PORT", port, pid, dir,
--         stats(), reset_stats(), request{...}, stop() -> stderr text, kill()}
function M.start(opts)
  opts = opts or {}
  assert(M.available(), "mocklib: srm-mock not found (SRM_MOCK_BIN=" .. tostring(M.bin) .. ")")
  local args = {}
  for k, v in pairs(opts) do
    if type(k) == "string" then
      local flag = FLAGS[k]
      if not flag then error("mocklib.start: unknown option '" .. k .. "'", 2) end
      args[#args + 1] = flag .. " " .. quote(v)
    end
  end
  table.sort(args)
  for _, a in ipairs(opts) do args[#args + 1] = quote(a) end

  local dir = tmp_root .. "/mock-" .. os.time() .. "-" .. math.random(1 << 30)
  assert(sh("mkdir -p " .. quote(dir)) == 0, "mocklib: cannot create " .. dir)
  local port_file, pid_file, err_file = dir .. "/port", dir .. "/pid", dir .. "/stderr"
  local cmd = string.format("%s --port 0 --port-file %s --pid-file %s --parent-pid %d %s "
    .. "</dev/null >%s 2>%s &", quote(M.bin), quote(port_file), quote(pid_file), self_pid or 0,
    table.concat(args, " "), quote(dir .. "/stdout"), quote(err_file))
  assert(sh(cmd) == 0, "mocklib: cannot start " .. M.bin)

  local port, pid
  for _ = 1, 1000 do
    port, pid = tonumber(read(port_file) or ""), tonumber(read(pid_file) or "")
    if port and pid then break end
    sleep(0.01)
  end
  if not (port and pid) then
    error("mocklib: srm-mock did not start: " .. (read(err_file) or "(no stderr)"), 2)
  end
  local base = "http://127.0.0.1:" .. port
  local up = false
  for _ = 1, 200 do
    if sh("curl -sf -m 2 -o /dev/null " .. quote(base .. "/healthz")) == 0 then
      up = true
      break
    end
    sleep(0.02)
  end
  if not up then error("mocklib: srm-mock does not answer /healthz on " .. base, 2) end

  local mock = {url = base .. "/v1", base = base, port = port, pid = pid, dir = dir}
  local stopped = false

  function mock.stats()
    local r = request(base, {path = "/stats", dir = dir})
    assert(r.status == 200, "mocklib: GET /stats failed (curl exit " .. tostring(r.exit) .. ")")
    return assert(json.decode(r.body))
  end

  function mock.reset_stats()
    local r = request(base, {path = "/reset-stats", method = "POST", dir = dir})
    assert(r.status == 200, "mocklib: POST /reset-stats failed")
  end

  -- mock.request{path=, method=, body=, headers={"K: v"}, timeout=seconds}
  function mock.request(o)
    local copy = {dir = dir}
    for k, v in pairs(o or {}) do copy[k] = v end
    return request(base, copy)
  end

  -- SIGTERM, wait for the exit (SIGKILL after 10 s); returns the mock's stderr (empty when all
  -- went well: no errors, no sanitizer report). Idempotent.
  function mock.stop()
    if not stopped then
      stopped = true
      sh("kill -TERM " .. pid .. " 2>/dev/null")
      for _ = 1, 1000 do
        if not alive(pid) then break end
        sleep(0.01)
      end
      if alive(pid) then sh("kill -KILL " .. pid .. " 2>/dev/null") end
    end
    return read(err_file) or ""
  end

  -- SIGKILL at once (a crashed endpoint, for failover tests).
  function mock.kill()
    if stopped then return end
    stopped = true
    sh("kill -KILL " .. pid .. " 2>/dev/null")
    for _ = 1, 500 do
      if not alive(pid) then break end
      sleep(0.01)
    end
  end

  function mock.alive()
    return not stopped and alive(pid)
  end

  return setmetatable(mock, {__close = function() mock.stop() end,
                             __gc = function() mock.stop() end})
end

return M
