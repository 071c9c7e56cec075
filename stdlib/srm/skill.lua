-- srm.skill{...}: the declaration a skill file returns, and its load-time validation.
--
-- A declaration is checked completely when the skill file runs: unknown keys, wrong types,
-- policies naming evidence that does not exist and malformed self-tests are errors carrying the
-- skill file:line, so a typo fails at load instead of silently scoring 0 later.
local options = require "srm.options"
local policy = require "srm.policy"
local rule = require "srm.rule"
local files = require "srm.files"
local resources = require "srm.resources"

local M = {}

local DECLARATION = {
  name = "string",
  description = "string?",
  version = "string?",
  evidence = "table",
  policy = "string|table",
  settings = "table?",
  tests = "table?",
  mode = "string?",
  resources = "table?",
}

local TEST_CASE = { name = "string?", record = "table", expect = "table", llm = "table?" }
local TEST_EXPECT = { score = "number?", status = "string?", reason = "string?", components = "table?" }
local TEST_EXPECT_COMPONENT = { score = "number?", status = "string?", reason = "string?" }

local MODES = { pointwise = true }

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end
M.sorted_keys = sorted_keys

-- Where a declaration problem is, as "path:line: ". Skill files end in `return srm.skill{...}`,
-- a tail call, so the skill's stack frame is gone by the time declare runs; instead the
-- token (an option or evidence name) is looked up in the skill's source after "srm.skill".
local function locate(token)
  local state = files.current()
  if not state or not state.path then return nil end
  local src = state.files[1].content
  local start = src:find("skill%s*[{(]") or 1
  local pos
  if token then
    for _, t in ipairs({ '"' .. token .. '"', "'" .. token .. "'", token .. "%s*=", token }) do
      pos = src:find(t, start, t:sub(-1) ~= "=")
      if pos then break end
    end
  end
  pos = pos or start
  local line = 1
  for _ in src:sub(1, pos):gmatch("\n") do line = line + 1 end
  return state.path .. ":" .. line .. ": "
end

-- Raises "path:line: srm.skill: msg". Outside a skill load (tests calling srm.skill directly)
-- the position comes from the stack instead: level 1 = a function called by declare.
local function fail(msg, level, token)
  local where = locate(token)
  if where then error(where .. "srm.skill: " .. msg, 0) end
  error("srm.skill: " .. msg, 2 + (level or 1))
end

-- options.check, with the error located in the skill source (see locate).
local function check_options(what, t, schema, fallback_token)
  local ok, err = pcall(options.check, "srm.skill" .. (what and (" " .. what) or ""), t, schema, 0)
  if ok then return end
  local msg = tostring(err):gsub("^[^\n]-%.lua:%d+: ", ""):gsub("^srm%.skill[^:]*: ", "")
  local token = msg:match("option '([^']+)'") or fallback_token
  fail(msg, 3, token)
end

local function check_evidence(evidence, provided)
  local out = {}
  local count = 0
  for _, name in ipairs(sorted_keys(evidence)) do
    local item = evidence[name]
    if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") then
      fail("evidence names must be identifiers, got '" .. tostring(name) .. "'", 2, tostring(name))
    end
    if type(item) == "function" then
      item = rule.predicate(item)
    elseif type(item) ~= "table" or type(item.run) ~= "function" then
      fail("evidence '" .. name .. "' must be an evidence item (srm.rule.*, srm.reference.*, ...) or a function, got " .. type(item), 2, name)
    end
    out[name] = item
    count = count + 1
  end
  -- Evidence a policy node brings (srm.policy.agent runs as an item of its own).
  for _, name in ipairs(sorted_keys(provided)) do
    if out[name] then fail("evidence '" .. name .. "' is also the name of the policy's own item", 2, name) end
    out[name] = provided[name]
    count = count + 1
  end
  if count == 0 then fail("'evidence' must declare at least one item", 2, "evidence") end
  return out
end

local function check_settings(settings)
  local out = {}
  for _, k in ipairs(sorted_keys(settings or {})) do
    local v = settings[k]
    local t = type(v)
    if type(k) ~= "string" or (t ~= "string" and t ~= "number" and t ~= "boolean") then
      fail("setting '" .. tostring(k) .. "' must map a name to a string, number or boolean default", 2, tostring(k))
    end
    out[k] = v
  end
  return out
end

local function check_tests(tests)
  local out = {}
  for k in pairs(tests or {}) do
    if math.type(k) ~= "integer" or k < 1 or k > #tests then
      fail("'tests' must be an array of test cases, found key '" .. tostring(k) .. "'", 2, "tests")
    end
  end
  for i, case in ipairs(tests or {}) do
    local label = "tests[" .. i .. "]"
    if type(case) ~= "table" then fail(label .. " must be a table", 2, "tests") end
    check_options(label, case, TEST_CASE, "tests")
    check_options(label .. ".expect", case.expect, TEST_EXPECT, "tests")
    for name, e in pairs(case.expect.components or {}) do
      if type(e) ~= "table" then fail(label .. ".expect.components." .. tostring(name) .. " must be a table", 2, "tests") end
      check_options(label .. ".expect.components." .. tostring(name), e, TEST_EXPECT_COMPONENT, "tests")
    end
    out[i] = case
  end
  return out
end

-- srm.skill{ name=, evidence=, policy=, settings=, tests=, description=, mode=, resources= }
--   -> skill
-- Raises with the skill file:line on any problem.
function M.declare(decl)
  if type(decl) ~= "table" then fail("expects a table, got " .. type(decl)) end
  check_options(nil, decl, DECLARATION)
  if not decl.name:match("^[%w_.%-]+$") then
    fail("name '" .. decl.name .. "' may only contain letters, digits, '_', '-' and '.'", 1, "name")
  end
  local mode = decl.mode or "pointwise"
  if not MODES[mode] then fail("mode '" .. mode .. "' is not supported (supported: pointwise)", 1, "mode") end
  local root = policy.of(decl.policy)
  -- Evidence an agent policy node brings along. srm.agent is loaded only by skills that build
  -- such a node (policy.agent), so a rule skill does not carry it in memory.
  local agent = package.loaded["srm.agent"]
  local provided = agent and agent.provided(root, decl.evidence) or {}
  local evidence = check_evidence(decl.evidence, provided)
  for _, name in ipairs(root:names()) do
    if not evidence[name] then
      fail("policy refers to unknown evidence '" .. name .. "' (declared: "
        .. table.concat(sorted_keys(evidence), ", ") .. ")", 1, name)
    end
  end
  local skill = {
    name = decl.name,
    description = decl.description or "",
    version = decl.version,
    mode = mode,
    evidence = evidence,
    policy = root,
    settings = check_settings(decl.settings),
    tests = check_tests(decl.tests),
    resources = resources.check(decl.resources, evidence, fail),
  }
  for name, item in pairs(provided) do
    local err = item.bind(skill)
    if err then fail(err, 1, name) end
  end
  local state = files.current()
  if state then
    if state.declared then fail("a skill file may declare only one skill", 1, nil) end
    state.declared = skill
  end
  return skill
end

return M
