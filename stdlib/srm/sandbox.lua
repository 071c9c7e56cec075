-- Skill sandbox: the environment a skill's code runs in (ARCHITECTURE §4).
--
-- Each skill gets a fresh environment table built from an allow list. Reading or assigning an
-- undeclared global is an error, and so are bytecode loading, io/os/debug and changes to shared
-- metatables. Library tables are read-only views, so one skill can never change what another
-- sees. CPU, wall-clock and memory budgets are enforced by the scheduler (runtime/srm_sched.c),
-- not here.
local core = require "srm.core"

local M = {}

-- Errors raised for sandbox violations carry this code, so the evaluator can report
-- status = "sandbox_error" instead of a generic skill_error.
M.ERROR_CODE = "SANDBOX"

local LOCKED = "locked by the srm sandbox"

-- "file:line: " of the skill code that caused a violation (level counts from the caller).
local function where(level)
  local info = debug.getinfo(level + 1, "Sl")
  if info and info.currentline and info.currentline > 0 then
    return info.short_src .. ":" .. info.currentline .. ": "
  end
  return ""
end

function M.violation(message, level)
  error({ code = M.ERROR_CODE, reason = where((level or 1) + 1) .. message }, (level or 1) + 1)
end

-- One-time hardening of the host state, done before any skill loads: string.dump would let a
-- skill read bytecode through ("").dump, and the shared string metatable must not be reachable.
local hardened = false
local function harden_state()
  if hardened then return end
  hardened = true
  string.dump = nil
  local string_mt = getmetatable("")
  string_mt.__metatable = LOCKED
  math.randomseed(0) -- reproducible math.random across runs
end

-- Functions of the host modules that skills must not reach: they change process-wide state
-- (srm.re.set_limits would lift the regex limits for every record).
local HIDDEN = {
  ["srm.re"] = { set_limits = true },
  ["srm.llm"] = { configure = true, track = true, abandon = true },
}
local hidden_of = setmetatable({}, { __mode = "k" }) -- module table -> hidden names

-- Functions skills see in a safer form. srm.tok.load takes a tokenizer name (resolved by the
-- host in its tokenizer directories) or a path, which for a skill must be relative to the
-- skill's directory, without "..", and is read while the skill loads.
local function skill_tok_load(name)
  if type(name) ~= "string" then error("srm.tok.load: expected a tokenizer name or path", 2) end
  local tok = require "srm.tok"
  local is_path = name:find("/", 1, true) or name:match("%.json$") or name:match("%.tiktoken$")
  if not is_path then return tok.load(name) end
  local files = require "srm.files"
  local state = files.current()
  if not state then
    M.violation("srm.tok.load: a tokenizer file can only be loaded while the skill loads", 2)
  end
  if name:sub(1, 1) == "/" then
    M.violation("srm.tok.load: path '" .. name .. "' must be relative to the skill's directory", 2)
  end
  for part in name:gmatch("[^/]+") do
    if part == ".." then M.violation("srm.tok.load: path '" .. name .. "' may not contain '..'", 2) end
  end
  return tok.load(state.dir .. "/" .. name)
end
local OVERRIDES = { ["srm.tok"] = { load = skill_tok_load } }
M.tok_load = skill_tok_load -- for stdlib helpers that load on a skill's behalf
local overrides_of = setmetatable({}, { __mode = "k" })

-- A read-only view of t: reads go through, writes raise, the metatable is locked. Nested
-- tables are wrapped on access; views are cached so a table always has the same view. Tables
-- that already protect their own metatable (json.array_mt, json.empty_array) are returned as
-- they are, so identity checks such as getmetatable(x) == json.array_mt keep working.
local view_cache = setmetatable({}, { __mode = "k" })
local function readonly(t, name)
  local cached = view_cache[t]
  if cached then return cached end
  local hidden = hidden_of[t]
  local override = overrides_of[t]
  local view = setmetatable({}, {
    __index = function(_, k)
      if hidden and hidden[k] then
        M.violation(name .. "." .. tostring(k) .. " is not available to skills", 2)
      end
      if override and override[k] then return override[k] end
      local v = t[k]
      if type(v) == "table" and getmetatable(v) == nil then
        return readonly(v, name .. "." .. tostring(k))
      end
      return v
    end,
    __newindex = function(_, k)
      M.violation("cannot modify read-only table " .. name .. " (key '" .. tostring(k) .. "')", 2)
    end,
    __pairs = function()
      local function step(_, k)
        local nk, nv = next(t, k)
        if hidden and hidden[nk] then return step(nil, nk) end
        if type(nv) == "table" and getmetatable(nv) == nil then
          nv = readonly(nv, name .. "." .. tostring(nk))
        end
        return nk, nv
      end
      return step, nil, nil
    end,
    __len = function() return #t end,
    __metatable = LOCKED,
  })
  view_cache[t] = view
  return view
end
M.readonly = readonly

local function copy_without(t, excluded)
  local c = {}
  for k, v in pairs(t) do
    if not excluded[k] then c[k] = v end
  end
  return c
end

local safe_libs -- built once: read-only views shared by every skill
local function libs()
  if safe_libs then return safe_libs end
  harden_state()
  for modname, names in pairs(HIDDEN) do hidden_of[require(modname)] = names end
  for modname, fns in pairs(OVERRIDES) do overrides_of[require(modname)] = fns end
  safe_libs = {
    string = readonly(copy_without(string, { dump = true }), "string"),
    table = readonly(table, "table"),
    math = readonly(copy_without(math, { randomseed = true }), "math"),
    utf8 = readonly(utf8, "utf8"),
  }
  return safe_libs
end

local BASE = {
  "assert", "error", "ipairs", "next", "pairs", "pcall", "xpcall", "select", "tonumber",
  "tostring", "type", "rawequal", "rawlen", "rawget", "getmetatable", "setmetatable", "_VERSION",
}

-- Modules a skill may require. Values are loaded lazily from the host's package system.
local ALLOWED_MODULES = {
  srm = true,
  ["srm.re"] = true,
  ["srm.text"] = true,
  ["srm.json"] = true,
  ["srm.code"] = true,
  ["srm.math"] = true,
  ["srm.ifeval"] = true,
  ["srm.tok"] = true,
}

local function allowed_list()
  local names = {}
  for k in pairs(ALLOWED_MODULES) do names[#names + 1] = k end
  table.sort(names)
  return table.concat(names, ", ")
end

-- Builds a new environment for one skill.
--   skill_name: prefixes print output (the skill file's name)
--   load_local(modname, env) -> value: loads a skill-local module (may be nil)
function M.new_env(skill_name, load_local)
  local L = libs()
  local env = {}
  local G = _G
  for _, k in ipairs(BASE) do env[k] = G[k] end
  for k, v in pairs(L) do env[k] = v end

  -- A __gc metamethod would run at some later collection, in whatever record (or at exit)
  -- happens to trigger it, outside every budget: skills may not set one. Lua marks an object
  -- for finalization only if its metatable has __gc when setmetatable is called, so checking
  -- here is enough.
  local raw_setmetatable = G.setmetatable
  env.setmetatable = function(t, mt)
    if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
      M.violation("setmetatable: __gc metamethods are not allowed in skills (a finalizer would run "
        .. "outside the record's budgets)", 2)
    end
    return raw_setmetatable(t, mt)
  end

  -- Lua runs xpcall's message handler while the error is being raised; when the error came
  -- from a hook (the budget check raising where it cannot yield) Lua leaves hooks off during
  -- that call, so a loop in the handler would escape every budget. Skills have no debug
  -- library, so a handler cannot inspect the failing stack anyway: here it runs after the
  -- stack has unwound, as an ordinary budgeted call. An error in the handler is its result.
  local pcall_, pack, unpack = G.pcall, table.pack, table.unpack
  env.xpcall = function(f, handler, ...)
    if type(handler) ~= "function" then
      error("bad argument #2 to 'xpcall' (function expected, got " .. type(handler) .. ")", 2)
    end
    local r = pack(pcall_(f, ...))
    if r[1] then return unpack(r, 1, r.n) end
    return false, (select(2, pcall_(handler, r[2])))
  end

  env.print = function(...)
    local parts = table.pack(...)
    for i = 1, parts.n do parts[i] = tostring(parts[i]) end
    core.stderr("[" .. skill_name .. "] " .. table.concat(parts, "\t", 1, parts.n) .. "\n")
  end

  -- Text chunks only: a binary chunk would bypass every check the compiler makes.
  env.load = function(chunk, chunkname, mode, chunk_env)
    if mode ~= nil and mode ~= "t" then
      M.violation("load: only text chunks are allowed (mode 't'), got mode '" .. tostring(mode) .. "'", 2)
    end
    if type(chunk) == "string" and chunk:byte(1) == 27 then
      M.violation("load: binary (bytecode) chunks are not allowed", 2)
    end
    return load(chunk, chunkname, "t", chunk_env == nil and env or chunk_env)
  end

  local local_modules = {}
  env.require = function(name)
    if type(name) ~= "string" then error("require: module name must be a string", 2) end
    if ALLOWED_MODULES[name] then
      local mod = require(name)
      if type(mod) == "table" then return readonly(mod, name) end
      return mod
    end
    if load_local and name:match("^[%w_]+[%w_.]*$") then
      local cached = local_modules[name]
      if cached == nil then
        cached = load_local(name, env)
        if cached == nil then
          M.violation("module '" .. name .. "' is not available to skills (allowed: "
            .. allowed_list() .. ", or a .lua file next to the skill)", 2)
        end
        local_modules[name] = cached
      end
      return cached
    end
    M.violation("module '" .. name .. "' is not available to skills (allowed: " .. allowed_list() .. ")", 2)
  end

  env._G = env
  setmetatable(env, {
    __index = function(_, k)
      M.violation("undeclared global '" .. tostring(k) .. "' (io, os, debug and globals are not available to skills)", 2)
    end,
    __newindex = function(_, k)
      M.violation("assignment to undeclared global '" .. tostring(k) .. "' (declare it local)", 2)
    end,
    __metatable = LOCKED,
  })
  return env
end

return M
