-- srm.package: Skill-RM skill packages, run through the agent judge unchanged.
--
-- A package is a folder with
--   SKILL.md        YAML front matter (name, description; optional mode, scale, budgets,
--                   fields) and a Markdown body: the skill's instructions (what use_skill shows);
--   resources.yaml  optional: `resources:` (or a top-level list) of resource cards: id, type,
--                   description, cost, hard_or_soft, visible_when (a record field), settings, and
--                   a body: path/file (Markdown next to it), text, or script (a Python program
--                   that reads input.json and prints a JSON result, run in srm.code's sandbox).
-- Unknown card and front-matter keys are ignored (published packages carry extra metadata);
-- wrong types and unknown resource types are load errors. Every file read is in the stamp.
--
--   package.is_package(path) -> boolean
--   package.load(dir, overrides, generation) -> skill | nil, message, kind  (as runner.load)
local core = require "srm.core"
local json = require "srm.json"
local files = require "srm.files"

local M = {}

local function trim_dir(dir)
  dir = dir:gsub("/+$", "")
  if dir == "" then dir = "/" end
  return dir
end

local function exists(path)
  local f = io.open(path, "rb")
  if not f then return false end
  local ok = f:read(0) ~= nil -- a directory opens but cannot be read
  f:close()
  return ok
end

function M.is_package(path)
  if type(path) ~= "string" then return false end
  return exists(trim_dir(path) .. "/SKILL.md")
end

-- front_matter(src) -> table, body | nil, message
function M.front_matter(src)
  src = src:gsub("^\239\187\191", "") -- a UTF-8 BOM
  local head = src:match("^%-%-%-[ \t]*\r?\n")
  if not head then return nil, "SKILL.md must start with a '---' line (YAML front matter)" end
  local rest = src:sub(#head + 1)
  local s, e = rest:find("\n%-%-%-[ \t]*\r?\n")
  local yaml_text, body
  if s then
    yaml_text, body = rest:sub(1, s), rest:sub(e + 1)
  elseif rest:match("\n%-%-%-[ \t]*$") then
    yaml_text, body = rest:gsub("\n%-%-%-[ \t]*$", "\n"), ""
  elseif rest:match("^%-%-%-") then
    yaml_text, body = "", rest:gsub("^%-%-%-[ \t]*\r?\n?", "")
  else
    return nil, "SKILL.md: the front matter has no closing '---' line"
  end
  local meta, err = require("srm.yaml").decode(yaml_text)
  if meta == nil then return nil, "SKILL.md front matter: " .. tostring(err) end
  if type(meta) ~= "table" then return nil, "SKILL.md front matter must be a mapping" end
  return meta, body
end

local function check_type(what, v, t)
  if v ~= nil and type(v) ~= t then error(what .. " must be a " .. t .. ", got " .. type(v), 0) end
  return v
end

-- A script resource: a Python program run in the sandbox on one candidate. It reads
-- input.json ({prompt, response, reference, candidate, record, args}) and prints a JSON object
-- ({score, reason, ...}) as its last line.
local function script_fn(id, source)
  return function(record, _, args)
    local input = { prompt = record.prompt, response = record.response, reference = record.reference,
      candidate = record.candidate, record = record, args = args }
    local ok, text = pcall(json.encode, input)
    if not ok then return { status = "input_error", reason = "the record cannot be sent to the script" } end
    local res = require("srm.code").run { cmd = { "python3", "-I", "-B", "main.py" },
      files = { ["main.py"] = source, ["input.json"] = text }, timeout = 10 }
    if res.status ~= "ok" then
      return { status = "sandbox_error", reason = "script " .. id .. ": " .. tostring(res.reason) }
    end
    local last
    for line in res.stdout:gmatch("[^\n]+") do last = line end
    local doc = last and json.decode(last)
    if type(doc) ~= "table" then
      return { status = "skill_error", reason = "script " .. id .. " printed no JSON result (exit code "
        .. tostring(res.exit_code) .. ")" }
    end
    if type(doc.score) ~= "number" then
      return { status = doc.status or "abstain", reason = doc.reason, detail = doc }
    end
    return { score = doc.score, reason = type(doc.reason) == "string" and doc.reason or nil, detail = doc }
  end
end

local function cards_of(doc)
  if doc == nil then return {} end
  if type(doc) ~= "table" then error("resources.yaml must hold a list of resources", 0) end
  local list = doc.resources or doc
  if type(list) ~= "table" then error("resources.yaml: 'resources' must be a list", 0) end
  local cards = {}
  for i, c in ipairs(list) do
    local what = "resources.yaml: resource #" .. i
    if type(c) ~= "table" then error(what .. " must be a mapping", 0) end
    local card = {
      id = check_type(what .. " id", c.id, "string"),
      type = check_type(what .. " type", c.type, "string"),
      description = check_type(what .. " description", c.description or c.title, "string"),
      hard_or_soft = check_type(what .. " hard_or_soft", c.hard_or_soft, "string"),
      visible = check_type(what .. " visible_when", c.visible_when, "string"),
      settings = check_type(what .. " settings", c.settings or c.allowed_settings, "table"),
    }
    if c.cost ~= nil then
      if type(c.cost) ~= "number" and type(c.cost) ~= "string" then error(what .. " cost must be a number or text", 0) end
      card.cost = c.cost
    end
    local path = check_type(what .. " path", c.path or c.file, "string")
    local script = check_type(what .. " script", c.script, "string")
    if script then
      card.fn = script_fn(tostring(card.id), files.read(script))
    elseif path then
      card.file = path
    elseif c.text ~= nil then
      card.text = check_type(what .. " text", c.text, "string")
    elseif c.field ~= nil then
      card.field = check_type(what .. " field", c.field, "string")
    end
    cards[i] = card
  end
  return cards
end

local BUDGETS = { "max_turns", "max_views", "max_runs", "max_view_chars" }

local function declare(dir, src)
  local meta, body = M.front_matter(src)
  if not meta then error(body, 0) end
  local name = check_type("SKILL.md name", meta.name, "string")
  if not name or name == "" then error("SKILL.md: the front matter needs a name", 0) end
  name = name:gsub("[^%w_.%-]", "_")
  local opts = { instructions_text = body, mode = check_type("SKILL.md mode", meta.mode, "string") }
  if meta.scale ~= nil then opts.scale = check_type("SKILL.md scale", meta.scale, "table") end
  local budgets = check_type("SKILL.md budgets", meta.budgets, "table") or {}
  for _, k in ipairs(BUDGETS) do
    local v = budgets[k] or meta[k]
    if v ~= nil then
      if math.type(v) ~= "integer" then error("SKILL.md: " .. k .. " must be an integer", 0) end
      opts[k] = v
    end
  end
  local fields = check_type("SKILL.md fields", meta.fields, "table") or {}
  opts.prompt_field = check_type("fields.prompt", fields.prompt, "string")
  opts.field_a = check_type("fields.response_a", fields.response_a, "string")
  opts.field_b = check_type("fields.response_b", fields.response_b, "string")
  opts.field = check_type("fields.response", fields.response or fields.responses, "string")
  local res_doc
  if exists(dir .. "/resources.yaml") then
    local text = files.read("resources.yaml")
    local doc, err = require("srm.yaml").decode(text)
    if doc == nil and err ~= "empty document" then error("resources.yaml: " .. tostring(err), 0) end
    res_doc = doc
  end
  local decl = {
    name = name,
    description = check_type("SKILL.md description", meta.description, "string") or "",
    version = meta.version ~= nil and tostring(meta.version) or nil,
    settings = { setting = "skill_operational" },
    evidence = {},
    resources = cards_of(res_doc),
    policy = require("srm.agent").policy(opts, 2),
  }
  return require("srm.skill").declare(decl)
end

-- load(dir, overrides, generation) -> skill | nil, message, kind ("usage" | "load"), like
-- srm.runner.load for a skill file.
function M.load(dir, overrides, generation)
  dir = trim_dir(dir)
  local src, err = core.read_file(dir .. "/SKILL.md")
  if not src then return nil, "cannot read skill package " .. tostring(err), "load" end
  local state = { dir = dir, path = dir .. "/SKILL.md", files = { { path = "SKILL.md", content = src } } }
  files.begin_load(state)
  local ok, skill = pcall(declare, dir, src)
  files.end_load()
  if not ok then
    local msg = type(skill) == "table" and tostring(skill.reason or skill.code) or tostring(skill)
    if not msg:find("SKILL.md", 1, true) and not msg:find("resources.yaml", 1, true) then
      msg = dir .. ": " .. msg
    end
    return nil, msg, "load"
  end
  skill.settings = { setting = "skill_operational" } -- a package's only setting
  return require("srm.runner").finish_load(skill, dir, dir, state.files, overrides, generation)
end

return M
