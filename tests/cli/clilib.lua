-- Helpers for the CLI golden tests: run the srm binary on files in a scratch directory and read
-- its rows back. Scripts run under `srm lua` from the project root with SRM_BIN set by ctest.
local json = require "srm.json"

local C = {}

C.bin = os.getenv("SRM_BIN") or arg[1] or "build/srm"
local tmp_root = os.getenv("SRM_TEST_TMP") or "/tmp/srm-tests"

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
C.quote = quote

-- A fresh scratch directory for one test script.
function C.tmpdir(name)
  local dir = tmp_root .. "/" .. name .. "-" .. tostring(os.time()) .. "-" .. tostring(math.random(1e9))
  assert(os.execute("mkdir -p " .. quote(dir)))
  return dir
end

function C.write(path, content)
  local f = assert(io.open(path, "wb"))
  f:write(content)
  f:close()
  return path
end

function C.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- Writes records (Lua tables) as JSONL.
function C.write_jsonl(path, records)
  local lines = {}
  for i, r in ipairs(records) do lines[i] = json.encode(r) end
  return C.write(path, table.concat(lines, "\n") .. "\n")
end

-- Runs `srm <args>` (args: array of strings, quoted here). Returns exit code, stdout, stderr.
function C.srm(args, dir)
  dir = dir or tmp_root
  local quoted = {}
  for i, a in ipairs(args) do quoted[i] = quote(a) end
  local out, err = dir .. "/.stdout", dir .. "/.stderr"
  local cmd = quote(C.bin) .. " " .. table.concat(quoted, " ") .. " >" .. quote(out) .. " 2>" .. quote(err)
  local ok, how, code = os.execute(cmd)
  if how ~= "exit" then code = 128 + (code or 0) end
  return code, C.read(out) or "", C.read(err) or ""
end

-- Starts `srm <args>` in the background. Returns a handle: h:wait([seconds]) -> exit code,
-- stdout, stderr (nil on timeout); h:stderr() reads stderr so far; h:kill([signal]) signals it.
function C.spawn(args, dir)
  dir = dir or tmp_root
  local quoted = {}
  for i, a in ipairs(args) do quoted[i] = quote(a) end
  local tag = dir .. "/.bg" .. tostring(math.random(1e9))
  local out, err, status, pidfile = tag .. ".stdout", tag .. ".stderr", tag .. ".status", tag .. ".pid"
  local cmd = "(" .. quote(C.bin) .. " " .. table.concat(quoted, " ") .. " >" .. quote(out) .. " 2>" .. quote(err)
    .. " & echo $! >" .. quote(pidfile) .. "; wait $!; echo $? >" .. quote(status) .. ") >/dev/null 2>&1 &"
  -- (the subshell must not hold ctest's output pipe, or ctest waits for it)
  assert(os.execute(cmd))
  -- A process left running when the test script ends (a failed case skips its kill) is
  -- terminated when the handle is collected, at the latest when the script's state closes.
  local h = setmetatable({}, { __gc = function(self) if not self.finished then self:kill("KILL") end end })
  local function pid()
    for _ = 1, 200 do
      local p = C.read(pidfile)
      if p and p:match("%d+") then return p:match("%d+") end
      os.execute("sleep 0.01")
    end
  end
  function h.wait(_, seconds)
    local deadline = os.time() + (seconds or 60)
    while os.time() <= deadline do
      local st = C.read(status)
      if st and st:match("%d+") then
        h.finished = true
        return tonumber(st:match("%d+")), C.read(out) or "", C.read(err) or ""
      end
      os.execute("sleep 0.02")
    end
    return nil
  end
  function h.stderr() return C.read(err) or "" end
  function h.kill(_, signal) os.execute("kill -" .. (signal or "TERM") .. " " .. pid() .. " 2>/dev/null") end
  h.pid = pid
  return h
end

-- Starts `srm serve <args> --port 0` in the background; returns its base URL and handle.
function C.serve(args, dir)
  local full = { "serve" }
  for _, a in ipairs(args) do full[#full + 1] = a end
  full[#full + 1] = "--port"
  full[#full + 1] = "0"
  local h = C.spawn(full, dir)
  for _ = 1, 500 do
    local port = h:stderr():match("listening on http://127%.0%.0%.1:(%d+)")
    if port then return "http://127.0.0.1:" .. port, h end
    os.execute("sleep 0.02")
  end
  error("srm serve did not start: " .. h:stderr())
end

-- JSON null becomes nil, so tests can compare with plain Lua values.
local function strip_nulls(v)
  if type(v) ~= "table" then return v end
  for k, x in pairs(v) do
    if x == json.null then v[k] = nil else strip_nulls(x) end
  end
  return v
end

-- Decodes every line of a JSONL file (nulls become nil); raises on a line that is not JSON.
function C.read_rows(path)
  local rows = {}
  local n = 0
  for line in io.lines(path) do
    n = n + 1
    local row, err = json.decode(line)
    if row == nil then error(path .. ":" .. n .. ": not JSON (" .. tostring(err) .. "): " .. line:sub(1, 200)) end
    rows[#rows + 1] = strip_nulls(row)
  end
  return rows
end

-- Rows keyed by id; raises on a duplicated id.
function C.by_id(rows)
  local t = {}
  for _, r in ipairs(rows) do
    if t[r.id] ~= nil then error("duplicated row id " .. tostring(r.id)) end
    t[r.id] = r
  end
  return t
end

return C
