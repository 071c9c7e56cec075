-- Files a skill reads (rubrics, references, local modules), resolved against the skill's own
-- directory. Paths are checked (no "..", no absolute paths) and every file read while a skill
-- loads is recorded, so the skill's sha256 stamp covers all of them.
local core = require "srm.core"
local sandbox = require "srm.sandbox"

local M = {}

-- The skill being loaded right now (set by srm.skill's loader); reads are only allowed then, so
-- a skill's stamp is complete before its first record runs.
local loading = nil

function M.begin_load(state) loading = state end
function M.end_load() loading = nil end
function M.current() return loading end

local function check_relative(path, api)
  if type(path) ~= "string" or path == "" then
    error(api .. ": path must be a non-empty string", 3)
  end
  if path:sub(1, 1) == "/" or path:find("\\", 1, true) then
    sandbox.violation(api .. ": path '" .. path .. "' must be relative to the skill's directory", 3)
  end
  for part in path:gmatch("[^/]+") do
    if part == ".." then
      sandbox.violation(api .. ": path '" .. path .. "' may not contain '..'", 3)
    end
  end
end

-- Reads `path` (relative to the loading skill's directory) and records it in the stamp.
-- Raises with the caller's file:line when the path is refused or the file cannot be read.
function M.read(path)
  check_relative(path, "srm.read")
  if not loading then
    sandbox.violation("srm.read: files can only be read while the skill loads (at its top level)", 2)
  end
  local full = loading.dir .. "/" .. path
  local content, err = core.read_file(full)
  if not content then error("srm.read: cannot read " .. err, 2) end
  loading.files[#loading.files + 1] = { path = path, content = content }
  return content
end

-- Loads a skill-local Lua module "a.b" from <skill dir>/a/b.lua into env; nil if absent.
function M.load_module(name, env)
  if not loading then return nil end
  local rel = name:gsub("%.", "/") .. ".lua"
  local full = loading.dir .. "/" .. rel
  local src = core.read_file(full)
  if not src then return nil end
  loading.files[#loading.files + 1] = { path = rel, content = src }
  local chunk, err = load(src, "@" .. full, "t", env)
  if not chunk then error(err, 0) end
  local value = chunk(name)
  if value == nil then value = true end
  return value
end

-- The stamp: sha256 over every file read (in read order, each framed by its path and size)
-- and the effective settings (typed, so "--set n=1" and "--set n=1.0" agree), so a changed
-- rubric or setting changes the stamp.
function M.stamp(files, settings)
  local parts = {}
  for _, f in ipairs(files) do
    parts[#parts + 1] = f.path .. "\0" .. #f.content .. "\0" .. f.content
  end
  local keys = {}
  for k in pairs(settings or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = settings[k]
    if math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 2^53 then v = math.tointeger(v) end
    parts[#parts + 1] = "set\0" .. k .. "=" .. type(v) .. ":" .. tostring(v)
  end
  return core.sha256(table.concat(parts, "\0"))
end

return M
