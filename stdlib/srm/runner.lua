-- The host side of `srm run` and `srm check`: loading a skill in a sandbox, running its
-- self-tests, turning input lines into records, and records' results into output rows. The C
-- driver (runtime/srm_cmd_run.c) calls these functions; evaluation itself runs as a task.
local core = require "srm.core"
local json = require "srm.json"
local sandbox = require "srm.sandbox"
local files = require "srm.files"
local evaluate = require "srm.evaluate"
local skill_mod = require "srm.skill"

local M = {}

local sorted_keys = skill_mod.sorted_keys

---------------------------------------------------------------------------------------------
-- Loading
---------------------------------------------------------------------------------------------

local function split_path(path)
  local dir, base = path:match("^(.*)/([^/]*)$")
  if not dir then return ".", path end
  if dir == "" then dir = "/" end
  return dir, base
end

local function error_text(err)
  if type(err) == "table" then return tostring(err.reason or err.code) end
  return tostring(err)
end

local function coerce_setting(name, default, text)
  local t = type(default)
  if t == "number" then
    local n = tonumber(text)
    if not n then return nil, "--set " .. name .. ": expected a number, got '" .. text .. "'" end
    return n
  elseif t == "boolean" then
    if text == "true" or text == "1" then return true end
    if text == "false" or text == "0" then return false end
    return nil, "--set " .. name .. ": expected true or false, got '" .. text .. "'"
  end
  return text
end

-- load(path, overrides, generation) -> skill | nil, message, kind
-- kind is "usage" for a bad --set, "load" for anything wrong with the skill itself.
function M.load(path, overrides, generation)
  local package = require "srm.package" -- a Skill-RM package folder (SKILL.md + resources.yaml)
  if package.is_package(path) then return package.load(path, overrides, generation) end
  local src, err = core.read_file(path)
  if not src then return nil, "cannot read skill " .. err, "load" end
  local dir, base = split_path(path)
  local state = { dir = dir, path = path, files = { { path = base, content = src } } }
  files.begin_load(state)
  local env = sandbox.new_env(base, files.load_module)
  local chunk, cerr = load(src, "@" .. path, "t", env)
  if not chunk then
    files.end_load()
    return nil, cerr, "load"
  end
  local ok, decl = pcall(chunk)
  files.end_load()
  if not ok then return nil, error_text(decl), "load" end
  if not state.declared or decl ~= state.declared then
    return nil, path .. ": the skill file must return srm.skill{...}", "load"
  end
  return M.finish_load(decl, path, dir, state.files, overrides, generation)
end

-- finish_load(skill, path, dir, loaded_files, overrides, generation) -> skill | nil, msg, "usage"
-- The last step of loading a skill file or a Skill-RM package (srm.package): the effective
-- settings (declared defaults, then --set overrides converted to the declared types), the
-- sha256 stamp over every file read and the settings, and the per-record context.
function M.finish_load(skill, path, dir, loaded_files, overrides, generation)
  local settings = {}
  for k, v in pairs(skill.settings) do settings[k] = v end
  for _, k in ipairs(sorted_keys(overrides or {})) do
    if skill.settings[k] == nil then
      local declared = sorted_keys(skill.settings)
      return nil, "--set " .. k .. ": skill '" .. skill.name .. "' declares no such setting (declared: "
        .. (#declared > 0 and table.concat(declared, ", ") or "none") .. ")", "usage"
    end
    local v, verr = coerce_setting(k, skill.settings[k], overrides[k])
    if v == nil then return nil, verr, "usage" end
    settings[k] = v
  end
  skill.path = path
  skill.dir = dir
  skill.files = {}
  for i, f in ipairs(loaded_files) do skill.files[i] = f.path end
  skill.sha256 = files.stamp(loaded_files, settings)
  skill.generation = generation or 1
  skill.effective_settings = settings
  -- Shared by every record: read-only, so no record can leave state for the next one.
  skill.ctx = sandbox.readonly({
    settings = settings,
    skill = { name = skill.name, dir = dir },
  }, "ctx")
  return skill
end

---------------------------------------------------------------------------------------------
-- Self-tests
---------------------------------------------------------------------------------------------

local function describe_result(r)
  return string.format("score %s, status %s%s", tostring(r.score), r.status,
    r.reason and ("; reason: " .. r.reason) or "")
end

local function check_expectation(what, expect, r)
  if expect.status ~= nil and r.status ~= expect.status then
    return what .. ": expected status " .. expect.status .. ", got " .. describe_result(r)
  end
  if expect.score ~= nil then
    if type(r.score) ~= "number" or math.abs(r.score - expect.score) > 1e-9 then
      return what .. ": expected score " .. tostring(expect.score) .. ", got " .. describe_result(r)
    end
  elseif expect.status == nil and r.status ~= "ok" then
    return what .. ": expected status ok, got " .. describe_result(r)
  end
  if expect.reason ~= nil and not tostring(r.reason or ""):find(expect.reason, 1, true) then
    return what .. ": expected the reason to mention '" .. expect.reason .. "', got " .. describe_result(r)
  end
  return nil
end

-- self_test(skill) -> array of failure messages (empty when every test passes), count
function M.self_test(skill)
  local failures = {}
  for i, case in ipairs(skill.tests) do
    local label = "self-test " .. i .. (case.name and (" (" .. case.name .. ")") or "")
    local r = evaluate.evaluate(skill, case.record, skill.ctx, case.llm or {})
    local msg = check_expectation(label, case.expect, r)
    if not msg and case.expect.components then
      for _, name in ipairs(sorted_keys(case.expect.components)) do
        local got = r.components[name]
        if not got then
          msg = label .. ": component '" .. name .. "' was not evaluated"
        else
          msg = check_expectation(label .. " component '" .. name .. "'", case.expect.components[name], got)
        end
        if msg then break end
      end
    end
    if msg then failures[#failures + 1] = msg end
  end
  return failures, #skill.tests
end

---------------------------------------------------------------------------------------------
-- Rows
---------------------------------------------------------------------------------------------

local ROW_ORDER = { order = { "id", "score", "status", "reason", "verdict", "components",
  "detail", "excluded", "skill", "usage", "latency_ms", "bench" } }
local USAGE_KEYS = require("srm.llm").USAGE_KEYS

-- A record that made no model call (most rows) shares one all-zero table: the row is only encoded.
local NO_USAGE = {}
for _, k in ipairs(USAGE_KEYS) do NO_USAGE[k] = 0 end

local function usage_of(u)
  if u == nil or next(u) == nil then return NO_USAGE end
  local out = {}
  for _, k in ipairs(USAGE_KEYS) do out[k] = u[k] or 0 end
  return out
end

local function stamp_of(skill)
  if not skill then return json.null end
  local s = skill.stamp
  if not s then
    s = { name = skill.name, sha256 = skill.sha256, generation = skill.generation }
    skill.stamp = s
  end
  return s
end

-- The row, one JSON object with keys in the documented order: id, score, status, reason,
-- verdict, components, detail, excluded, skill, usage, latency_ms (ROW_ORDER); `detail` (row-level
-- fields from expanded evidence, see evaluate.lua) only when there is some. A row always encodes: a
-- value that cannot (e.g. a function in a component's detail) turns the row into a
-- skill_error saying so.
local function encode_row(skill, id, r, latency_ms, bench)
  local row = {
    id = id,
    score = r.score == nil and json.null or r.score,
    status = r.status,
    reason = r.reason == nil and json.null or tostring(r.reason),
    verdict = r.verdict,
    components = r.components or {},
    detail = r.detail,
    excluded = (r.excluded and #r.excluded > 0) and json.array(r.excluded) or nil,
    skill = stamp_of(skill),
    usage = usage_of(r.usage),
    latency_ms = math.floor((latency_ms or 0) * 10 + 0.5) / 10,
    bench = bench,
  }
  local ok, text = pcall(json.encode, row, ROW_ORDER)
  if not ok then
    row.status = "skill_error"
    row.score = json.null
    row.reason = "cannot encode the row: " .. error_text(text)
    row.components, row.verdict, row.excluded, row.detail = {}, nil, nil, nil
    text = json.encode(row, ROW_ORDER)
  end
  return text, row.status, r.score
end

local KILL_RESULTS = {
  instructions = { status = "timeout", reason = "the record exceeded its instruction budget (--max-instructions); an infinite loop?" },
  deadline = { status = "timeout", reason = "the record exceeded its wall-clock deadline (--timeout)" },
  memory = { status = "budget_exceeded", reason = "the record exceeded the memory limit (--max-memory)" },
}

-- finish(skill, id, result, kill, error, latency_ms, bench) -> row_json, status, score
-- result: the evaluator's result, or nil when the task was killed (kill names the budget) or
-- failed outside the evaluator (error holds the message); bench: the record's bookkeeping.
function M.finish(skill, id, result, kill, err, latency_ms, bench)
  local r = result
  if kill then
    r = KILL_RESULTS[kill] or { status = "skill_error", reason = "killed: " .. tostring(kill) }
  elseif err then
    r = { status = "skill_error", reason = error_text(err) }
  elseif type(r) ~= "table" then
    r = { status = "skill_error", reason = "the evaluation returned no result" }
  end
  return encode_row(skill, id, r, latency_ms, bench)
end

-- --mode group: every record is a group of candidate completions (srm.group); nil: one record,
-- one evaluation.
local group_opts = nil

-- set_group{strategy=, field=, seed=}: switch to best-of-N selection; raises on a bad option.
function M.set_group(opts)
  group_opts = require("srm.group").configure(opts)
end

function M.evaluate(skill, record)
  if group_opts then return require("srm.group").evaluate(skill, record, skill.ctx, group_opts) end
  return evaluate.evaluate(skill, record, skill.ctx)
end

-- abandon(co): a record's task was stopped; release the model calls it was sending.
function M.abandon(co)
  require("srm.llm").abandon(co)
end

-- configure_llm{endpoints=, api_key=, model=, ...}: model-call settings from the command line
-- and environment (see srm.llm.configure). The key stays in memory; it is never printed.
function M.configure_llm(c)
  if c.trace then
    assert(require("srm.trace").open(c.trace))
    c.trace = nil
  end
  return require("srm.llm").configure(c)
end

-- llm_totals() -> {llm_calls, cache_hits, prompt_tokens, completion_tokens, retries,
--   attempts, failures, peak_inflight}: this state's model-call totals (summed by the host)
function M.llm_totals()
  local llm = require "srm.llm"
  local t, s = llm.totals(), llm.stats()
  return {
    llm_calls = t.llm_calls, cache_hits = t.cache_hits, prompt_tokens = t.prompt_tokens,
    completion_tokens = t.completion_tokens, retries = s.retries, attempts = s.attempts,
    failures = s.failures, peak_inflight = s.peak_inflight,
  }
end

---------------------------------------------------------------------------------------------
-- Input
---------------------------------------------------------------------------------------------

-- Resume bookkeeping: ids already present in the output file.
local done_ids = nil

local function id_key(id)
  if math.type(id) == "integer" then return "n:" .. id end
  if type(id) == "number" then return "n:" .. string.format("%.17g", id) end
  return "s:" .. tostring(id)
end

local function input_error_row(skill, lineno, reason)
  return (encode_row(skill, lineno, { status = "input_error", reason = "line " .. lineno .. ": " .. reason }, 0))
end

-- input_error(skill, lineno, reason) -> row_json (for lines the C reader rejected)
function M.input_error(skill, lineno, reason)
  if done_ids and done_ids[id_key(lineno)] then return nil end
  return input_error_row(skill, lineno, reason)
end

local function describe_json_type(v)
  if type(v) == "table" then return json.is_array(v) and "an array" or "an object" end
  if v == json.null then return "null" end
  return "a " .. type(v)
end

-- --map dst=src: the skill reads field src of every record under the name dst as well.
local field_map = {}
function M.set_map(map)
  for dst, src in pairs(map) do
    if dst == "id" or dst == "bench" then error("cannot map onto the reserved field '" .. dst .. "'", 0) end
    if src == "bench" then error("the bench field is bookkeeping and cannot be mapped", 0) end
  end
  field_map = map
end

-- prepare(skill, rec, err, lineno) -> "record", record, id, bench | "row", row_json | "skip"
-- The host decodes the line (srm_json_decode, in place): rec is its value, or nil with err.
function M.prepare(skill, rec, err, lineno)
  if err then
    if done_ids and done_ids[id_key(lineno)] then return "skip" end
    return "row", input_error_row(skill, lineno, "invalid JSON: " .. err)
  end
  if type(rec) ~= "table" or json.is_array(rec) then
    if done_ids and done_ids[id_key(lineno)] then return "skip" end
    return "row", input_error_row(skill, lineno, "expected a JSON object, got " .. describe_json_type(rec))
  end
  for dst, src in pairs(field_map) do rec[dst] = rec[src] end
  local id = rec.id
  if id == nil or id == json.null then id = rec.key end
  if id == nil or id == json.null then id = lineno end
  local tid = type(id)
  if tid ~= "string" and tid ~= "number" then
    if done_ids and done_ids[id_key(lineno)] then return "skip" end
    return "row", input_error_row(skill, lineno, "field 'id' must be a string or a number, got " .. describe_json_type(id))
  end
  if done_ids and done_ids[id_key(id)] then return "skip" end
  -- `bench`: bookkeeping of benchmark tasks (labels included, see docs/eval.md). The skill never
  -- sees it; the row carries it back for `srm eval`.
  local bench = rec.bench
  rec.bench = nil
  require("srm.trace").note_id(rec, id)
  return "record", rec, id, bench
end

-- scan_output(path, retry_failed) -> kept, removed
-- Reads an existing output file (the C side has already cut a torn last line) and remembers
-- its ids so prepare() skips them. With retry_failed, rows whose status is judge_failed or
-- timeout are dropped from the file (rewritten atomically) so those records run again.
function M.scan_output(path, retry_failed)
  done_ids = {}
  local f = io.open(path, "rb")
  if not f then return 0, 0 end
  local kept_lines, kept, removed = {}, 0, 0
  for line in f:lines() do
    local row = json.decode(line)
    if type(row) == "table" and row.id ~= nil then
      if retry_failed and (row.status == "judge_failed" or row.status == "timeout") then
        removed = removed + 1
      else
        done_ids[id_key(row.id)] = true
        kept = kept + 1
        if retry_failed then kept_lines[#kept_lines + 1] = line end
      end
    end
  end
  f:close()
  if removed > 0 then
    local tmp = path .. ".srm-tmp"
    local out = assert(io.open(tmp, "wb"))
    for _, line in ipairs(kept_lines) do out:write(line, "\n") end
    assert(out:close())
    assert(os.rename(tmp, path))
  end
  return kept, removed
end

---------------------------------------------------------------------------------------------
-- Plan (srm check)
---------------------------------------------------------------------------------------------

function M.plan(skill)
  local lines = {}
  local function add(s) lines[#lines + 1] = s end
  add("skill " .. skill.name .. (skill.version and (" " .. skill.version) or "") .. "  (" .. skill.path .. ")")
  if skill.description ~= "" then add("  " .. skill.description) end
  add("  sha256 " .. skill.sha256 .. " over " .. table.concat(skill.files, ", "))
  add("evidence:")
  local used = {}
  for _, n in ipairs(skill.policy:names()) do used[n] = true end
  local width = 0
  for name in pairs(skill.evidence) do width = math.max(width, #name) end
  for _, name in ipairs(sorted_keys(skill.evidence)) do
    local item = skill.evidence[name]
    add(string.format("  %-" .. width .. "s  %-18s %s%s", name, item.kind or "custom", item.describe or "",
      used[name] and "" or "  (unused by the policy)"))
  end
  add("policy (evidence runs lazily, in this order, only when needed):")
  local desc = skill.policy.describe and skill.policy:describe("  ") or ("  " .. (skill.policy.kind or "policy"))
  add(desc)
  local keys = sorted_keys(skill.effective_settings)
  if #keys > 0 then
    add("settings:")
    for _, k in ipairs(keys) do add("  " .. k .. " = " .. tostring(skill.effective_settings[k])) end
  end
  return table.concat(lines, "\n")
end

return M
