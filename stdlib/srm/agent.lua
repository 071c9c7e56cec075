-- srm.agent: the agentic skill judge, srm.policy.agent{...}.
--
-- One loop for every mode (pointwise score, pairwise A/B/Tie, scaled A>>B..B>>A, listwise A-N):
-- the judge model sees the task and only the skill's name and description; it loads the skill
-- (use_skill), lists, views and runs the resources it needs (progressive disclosure), may run
-- Python in srm.code's process sandbox or Lua in a fresh restricted state (srm.luabox), and
-- ends with final_answer. Per-record budgets bound turns, distinct views, runs and characters
-- per view. When the turns run out or no verdict comes, a finalization chain follows: forced
-- final_answer -> plain-text retry -> direct judge (no tools) -> judge_failed. A deterministic
-- readout then checks the verdict against hard evidence and may override it (recorded in the
-- row's detail). Pairwise and scaled judgments run in both orders; disagreement is a tie.
--
-- What waits concurrently: the conversations of one record (the two orders) advance in
-- lockstep, each round's model requests going out in one llm.batch; the run_python calls of one
-- round (all orders) go out in one srm.code.run_many. use_skill, list/view, run_lua and
-- run_resource (arbitrary evidence) run one after another.
--
-- The node runs as an evidence item of its own (default name "agent"), so the row's
-- components show it; srm.skill adds that item (see M.provided).
local llm = require "srm.llm"
local json = require "srm.json"
local options = require "srm.options"
local files = require "srm.files"
local extract = require "srm.extract"
local resources = require "srm.resources"
local T = require "srm.agent_tools"

local M = {}

M.BLOCKED_KEYS = resources.BLOCKED_KEYS

local MODES = { pointwise = true, pairwise = true, scaled = true, listwise = true }
local TOOL_NAMES = { "use_skill", "list_resources", "view_resource", "run_resource", "run_python",
  "run_lua", "final_answer" }

-- Per-record resources built from record fields in the skill_operational setting: the first
-- field present of each list (values pass the blocked-key sanitizer).
M.RECORD_RESOURCES = {
  { id = "reference", type = "reference", fields = { "reference", "reference_answer", "ground_truth" },
    description = "a reference answer for this task" },
  { id = "checklist", type = "checklist", fields = { "checklist", "constraints" },
    description = "the task's checklist or constraints" },
  { id = "metadata", type = "metadata", fields = { "metadata", "meta" },
    description = "task metadata (labels removed)" },
}

local OPTS = {
  name = "string?", mode = "string?", scale = "table?", field = "string?", field_a = "string?",
  field_b = "string?", prompt_field = "string?", gold = "string?", swap = "boolean?",
  instructions = "string?", instructions_text = "string?", system = "string?", model = "string?",
  temperature = "number?", max_tokens = "integer?", timeout = "number?", retries = "integer?",
  setting = "string?", tools = "table?", max_turns = "integer?", max_views = "integer?",
  max_runs = "integer?", max_view_chars = "integer?", max_calls_per_turn = "integer?",
  record_resources = "table|boolean?", blocked_keys = "table?", readout = "boolean|function?",
  readout_threshold = "number?", python = "string?", python_timeout = "number?",
  lua_instructions = "integer?", lua_memory_kb = "integer?", max_result_chars = "integer?",
  note = "function?",
}

local SETTINGS = { baseline = true, skill_fair = true, skill_operational = true,
  flat_prompt = true, tool_only = true }

local clip = extract.clip

-- Agent nodes by evidence name, until srm.skill claims them (nested nodes, see M.provided).
local registry = {}

local function positive(api, opts, key, default, level)
  local v = opts[key]
  if v == nil then return default end
  if v < 1 then error(api .. ": option '" .. key .. "' must be at least 1", level) end
  return v
end

local function configure(opts, level)
  local api = "policy.agent"
  options.check(api, opts or {}, OPTS, level + 1)
  opts = opts or {}
  local A = {}
  A.name = opts.name or "agent"
  if not A.name:match("^[%a_][%w_]*$") then error(api .. ": name must be an identifier", level) end
  A.mode = opts.mode or "pairwise"
  if not MODES[A.mode] then
    error(api .. ": mode must be pointwise, pairwise, scaled or listwise, got '" .. A.mode .. "'", level)
  end
  local scale = opts.scale or { 1, 10 }
  A.scale = { tonumber(scale[1]), tonumber(scale[2]) }
  if not A.scale[1] or not A.scale[2] or A.scale[2] <= A.scale[1] then
    error(api .. ": scale must be {low, high} with low < high", level)
  end
  A.prompt_field = opts.prompt_field or "prompt"
  A.field = opts.field or (A.mode == "listwise" and "responses" or "response")
  A.field_a, A.field_b = opts.field_a or "response_a", opts.field_b or "response_b"
  A.gold = opts.gold
  A.swap = opts.swap
  if A.swap == nil then A.swap = A.mode == "pairwise" or A.mode == "scaled" end
  if opts.instructions then
    if not files.current() then error(api .. ": instruction files are read while the skill loads", level) end
    A.instructions = files.read(opts.instructions)
  else
    A.instructions = opts.instructions_text
  end
  A.system = opts.system
  A.model, A.temperature, A.max_tokens = opts.model, opts.temperature or 0, opts.max_tokens or 2048
  A.timeout, A.retries = opts.timeout, opts.retries
  A.setting = opts.setting or "skill_operational"
  if not SETTINGS[A.setting] then error(api .. ": unknown setting '" .. A.setting .. "'", level) end
  A.tools = {}
  for _, t in ipairs(opts.tools or TOOL_NAMES) do
    if not T.TOOLS[t] and t ~= "final_answer" then error(api .. ": unknown tool '" .. tostring(t) .. "'", level) end
    A.tools[t] = true
  end
  A.tools.final_answer = true
  A.max_turns = positive(api, opts, "max_turns", 8, level + 1)
  A.max_views = positive(api, opts, "max_views", 6, level + 1)
  A.max_runs = positive(api, opts, "max_runs", 4, level + 1)
  A.max_view_chars = positive(api, opts, "max_view_chars", 6000, level + 1)
  A.max_calls_per_turn = positive(api, opts, "max_calls_per_turn", 8, level + 1)
  A.max_result_chars = positive(api, opts, "max_result_chars", 8000, level + 1)
  A.record_resources = opts.record_resources
  if A.record_resources == nil or A.record_resources == true then A.record_resources = M.RECORD_RESOURCES end
  A.blocked = resources.blocked_set(opts.blocked_keys)
  A.readout = opts.readout
  if A.readout == nil then A.readout = true end
  A.readout_threshold = opts.readout_threshold or 0.5
  A.python = opts.python or "python3"
  A.python_timeout = opts.python_timeout or 10
  A.lua_instructions = opts.lua_instructions or 1000000
  A.lua_memory = (opts.lua_memory_kb or 16384) * 1024
  A.note = opts.note
  return A
end

---------------------------------------------------------------------------------------------
-- The record: task texts, the sanitized copy, resources

local function build_task(A, record)
  local task = { prompt = options.field(record, A.prompt_field), candidates = {} }
  if A.mode == "pointwise" then
    local r, why = options.field(record, A.field)
    if not r then return nil, why end
    task.candidates[1] = r
  elseif A.mode == "pairwise" or A.mode == "scaled" then
    local a, why = options.field(record, A.field_a)
    if not a then return nil, why end
    local b, why2 = options.field(record, A.field_b)
    if not b then return nil, why2 end
    task.candidates = { a, b }
  else
    local list = record[A.field]
    if type(list) ~= "table" or #list < 2 or #list > #T.LETTERS then
      return nil, "record has no array of 2 to 26 candidate strings in '" .. A.field .. "'"
    end
    for i, c in ipairs(list) do
      if type(c) ~= "string" then return nil, "candidate " .. i .. " in '" .. A.field .. "' is not a string" end
      task.candidates[i] = c
    end
  end
  return task
end

local function as_text(v)
  if type(v) == "string" then return v end
  local ok, s = pcall(json.encode, v, { indent = 2 })
  return ok and s or tostring(v)
end

local function card_visible(card, safe, ctx, setting)
  if card.settings then
    local allowed = false
    for _, s in ipairs(card.settings) do if s == setting then allowed = true end end
    if not allowed then return false end
  end
  if card.body == "field" then
    if setting ~= "skill_operational" and setting ~= "flat_prompt" then return false end
    if resources.field_value(safe, card.field) == nil then return false end
  end
  local vis = card.visible
  if type(vis) == "string" then return resources.field_value(safe, vis) ~= nil end
  if type(vis) == "function" then
    local ok, v = pcall(vis, safe, ctx)
    return ok and v and true or false
  end
  return true
end

-- The resources visible for this record, in order: the skill's cards, then record resources.
local function record_resources(A, skill, safe, ctx, setting)
  local list, by_id = {}, {}
  local function add(r)
    if by_id[r.id] then return end
    list[#list + 1] = r
    by_id[r.id] = r
  end
  for _, card in ipairs(skill.resources or {}) do
    if card_visible(card, safe, ctx, setting) then add(card) end
  end
  if setting == "skill_operational" or setting == "flat_prompt" then
    for _, spec in ipairs(A.record_resources or {}) do
      for _, f in ipairs(spec.fields or { spec.field }) do
        local v = resources.field_value(safe, f)
        if v ~= nil then
          add { id = spec.id, type = spec.type or "reference", description = spec.description or "",
            cost = 1, hard_or_soft = "soft", body = "field", field = f, runnable = false }
          break
        end
      end
    end
  end
  return list, by_id
end

local function index_of(list)
  local out = {}
  for i, r in ipairs(list) do
    local actions = { "view" }
    if r.runnable then actions = r.body == "evidence" and { "run" } or { "view", "run" } end
    out[i] = { id = r.id, type = r.type, description = r.description, cost = r.cost,
      hard_or_soft = r.hard_or_soft, actions = json.array(actions) }
  end
  return json.array(out)
end

---------------------------------------------------------------------------------------------
-- Results sent back to the model

-- A tool result as JSON text: values that JSON cannot hold are rendered as text.
local function encode_result(v, limit)
  local ok, s = pcall(json.encode, v)
  if not ok then
    ok, s = pcall(json.encode, { result_text = tostring(v) })
    if not ok then s = '{"error": "the result could not be encoded"}' end
  end
  if #s > limit * 2 then
    s = json.encode { error = "the result was too long to send (" .. #s .. " bytes)",
      start = clip(s, limit) }
  end
  return s
end

local function utf8_cut(s, from, n)
  local rest = s:sub(from + 1)
  if #rest <= n then return rest, false end
  return clip(rest, n), true
end

---------------------------------------------------------------------------------------------
-- Per-record state and the tools

local function quote_lua(s)
  return (string.format("%q", s):gsub("\\\n", "\\n"))
end

local function new_record_state(A, skill, record, ctx, setting)
  local st = { A = A, skill = skill, record = record, ctx = ctx, setting = setting }
  st.safe = resources.sanitize(record, A.blocked)
  st.list, st.by_id = record_resources(A, skill, st.safe, ctx, setting)
  st.texts = {}    -- resource id -> text (computed once per record)
  st.results = {}  -- resource id -> {[original candidate] = result}
  return st
end

-- The text of a viewable resource (fn bodies are called once per record).
local function resource_text(st, r)
  local cached = st.texts[r.id]
  if cached then return cached end
  local text
  if r.body == "field" then
    text = as_text(resources.field_value(st.safe, r.field))
  elseif r.body == "fn" then
    local ok, v = pcall(r.fn, st.safe, st.ctx, nil)
    if not ok then return nil, "the resource failed: " .. tostring(type(v) == "table" and v.reason or v) end
    text = as_text(v)
  elseif r.body == "evidence" then
    text = (r.description ~= "" and (r.description .. "\n\n") or "") .. "Runnable check: "
      .. tostring(r.evidence.describe or r.evidence.kind or "evidence") .. ". Use run_resource."
  else
    text = r.text or ""
  end
  st.texts[r.id] = text
  return text
end

-- The record a resource runs on for one candidate: the sanitized record with the candidate's
-- text as `response` (and the agent's response field).
local function candidate_record(st, conv, orig)
  local rec = {}
  for k, v in pairs(st.safe) do rec[k] = v end
  local text = st.task.candidates[orig]
  rec.response = text
  if st.A.mode == "pointwise" then rec[st.A.field] = text end
  rec.candidate = conv and conv.label_of[orig] or T.letter(orig)
  return rec
end

local function normalize_result(ok, v)
  if not ok then
    local msg = type(v) == "table" and (v.reason or v.code) or v
    return { status = type(v) == "table" and v.code == "ABSTAIN" and "abstain" or "skill_error",
      reason = tostring(msg) }
  end
  if type(v) == "boolean" then return { status = "ok", score = v and 1 or 0 } end
  if type(v) == "number" then return { status = "ok", score = v } end
  if type(v) == "string" then return { status = "ok", output = v } end
  if type(v) ~= "table" then return { status = "skill_error", reason = "the resource returned " .. type(v) } end
  return { status = v.status or "ok", score = v.score, reason = v.reason, detail = v.detail,
    output = v.output }
end

-- Runs resource r on original candidate orig (cached per record: the readout reuses it).
local function run_on(st, conv, r, orig, args)
  st.results[r.id] = st.results[r.id] or {}
  local cached = st.results[r.id][orig]
  if cached and args == nil then return cached end
  local rec = candidate_record(st, conv, orig)
  local res
  if r.body == "evidence" then
    res = normalize_result(pcall(r.evidence.run, rec, st.ctx))
  else
    res = normalize_result(pcall(r.fn, rec, st.ctx, args))
  end
  if args == nil then st.results[r.id][orig] = res end
  return res
end

local function need_skill(conv)
  if not conv.loaded then return { error = "load the skill first: call use_skill" } end
  return nil
end

local function spend_run(st, conv)
  if conv.runs >= st.A.max_runs then
    return { error = "run budget exhausted (" .. st.A.max_runs .. " runs per record); call final_answer" }
  end
  conv.runs = conv.runs + 1
  return nil
end

local function string_arg(args, key, required)
  local v = args[key]
  if v == nil or v == json.null then
    if required then return nil, "missing argument '" .. key .. "'" end
    return nil
  end
  if type(v) ~= "string" then return nil, "argument '" .. key .. "' must be a string" end
  return v
end

local HANDLERS = {}

function HANDLERS.use_skill(st, conv, args)
  local name, err = string_arg(args, "name", true)
  if not name then return { error = err } end
  if name ~= st.skill.name then
    return { error = "unknown skill '" .. name .. "' (available: " .. st.skill.name .. ")" }
  end
  conv.loaded = true
  local text, cut = utf8_cut(st.A.instructions or "", 0, st.A.max_view_chars)
  return { name = st.skill.name, description = st.skill.description, instructions = text,
    instructions_truncated = cut, resources = index_of(st.list) }
end

function HANDLERS.list_resources(st, conv)
  local e = need_skill(conv)
  if e then return e end
  return { resources = index_of(st.list) }
end

local function find(st, args)
  local id, err = string_arg(args, "id", true)
  if not id then return nil, err end
  local r = st.by_id[id]
  if not r then
    local ids = {}
    for i, x in ipairs(st.list) do ids[i] = x.id end
    return nil, "no resource '" .. id .. "' (resources: " .. table.concat(ids, ", ") .. ")"
  end
  return r
end

function HANDLERS.view_resource(st, conv, args)
  local e = need_skill(conv)
  if e then return e end
  local r, err = find(st, args)
  if not r then return { error = err } end
  local offset = args.offset
  if offset ~= nil and offset ~= json.null then
    offset = math.tointeger(offset)
    if not offset or offset < 0 then return { error = "argument 'offset' must be a non-negative integer" } end
  else
    offset = 0
  end
  if not conv.viewed[r.id] then
    if conv.views >= st.A.max_views then
      return { error = "view budget exhausted (" .. st.A.max_views .. " distinct resources per record); call final_answer" }
    end
    conv.viewed[r.id] = true
    conv.views = conv.views + 1
  end
  local text, terr = resource_text(st, r)
  if not text then return { error = terr } end
  local chunk, cut = utf8_cut(text, offset, st.A.max_view_chars)
  local out = { id = r.id, type = r.type, content = chunk, offset = offset, total_chars = #text,
    truncated = cut }
  if cut then out.next_offset = offset + #chunk end
  return out
end

function HANDLERS.run_resource(st, conv, args)
  local e = need_skill(conv)
  if e then return e end
  local r, err = find(st, args)
  if not r then return { error = err } end
  if not r.runnable then return { error = "resource '" .. r.id .. "' cannot be run; view it" } end
  local cand, cerr = string_arg(args, "candidate", false)
  if cerr then return { error = cerr } end
  local run_args = args.args
  if run_args == json.null then run_args = nil end
  if run_args ~= nil and type(run_args) ~= "table" then return { error = "argument 'args' must be an object" } end
  local targets = {}
  if cand then
    local i = T.LETTERS:find(cand:upper(), 1, true)
    if #cand ~= 1 or not i or i > #st.task.candidates then
      return { error = "unknown candidate '" .. cand .. "'" }
    end
    targets[1] = conv.perm[i]
  else
    for i = 1, #st.task.candidates do targets[i] = conv.perm[i] end
  end
  local spent = spend_run(st, conv)
  if spent then return spent end
  local results = {}
  for _, orig in ipairs(targets) do
    local res = run_on(st, conv, r, orig, run_args)
    local key = st.A.mode == "pointwise" and "response" or conv.label_of[orig]
    local copy = { status = res.status, score = res.score, reason = res.reason, detail = res.detail }
    if res.output then copy.output = clip(tostring(res.output), st.A.max_result_chars) end
    results[key] = copy
  end
  return { id = r.id, hard_or_soft = r.hard_or_soft, results = results }
end

-- The texts as the model sees them in this conversation: {A = text, ...}.
local function presented(st, conv)
  local out = {}
  for i = 1, #st.task.candidates do out[T.letter(i)] = st.task.candidates[conv.perm[i]] end
  return out
end

function HANDLERS.run_lua(st, conv, args)
  local src, err = string_arg(args, "code", true)
  if not src then return { error = err } end
  local ok, box = pcall(require, "srm.luabox")
  if not ok then return { error = "run_lua is not available in this build" } end
  local spent = spend_run(st, conv)
  if spent then return spent end
  local parts = { "PROMPT = " .. quote_lua(st.task.prompt or "") .. "; RESPONSES = {" }
  for k, v in pairs(presented(st, conv)) do parts[#parts + 1] = k .. " = " .. quote_lua(v) .. ", " end
  parts[#parts + 1] = "}; RESPONSE = RESPONSES.A; " -- one line: the model's line numbers stay
  local res = box.run(table.concat(parts) .. src, { instructions = st.A.lua_instructions,
    memory = st.A.lua_memory, output = st.A.max_result_chars })
  return { status = res.status, result = res.result, output = res.output,
    output_truncated = res.output_truncated, error = res.error }
end

-- run_python is prepared here and run in one batch per round (see execute).
function HANDLERS.run_python(st, conv, args)
  local src, err = string_arg(args, "code", true)
  if not src then return { error = err } end
  local spent = spend_run(st, conv)
  if spent then return spent end
  local task = json.encode { prompt = st.task.prompt or "", responses = presented(st, conv) }
  return nil, {
    cmd = { st.A.python, "-I", "-B", "main.py" },
    files = { ["main.py"] = T.PY_HELPERS .. "\n# ---- the judge's program ----\n" .. src,
      ["srm_task.json"] = task },
    timeout = st.A.python_timeout, memory_mb = 512, max_output = 1 << 20,
  }
end

local function python_result(st, res)
  local limit = st.A.max_result_chars
  local out = { status = res.status, exit_code = res.exit_code, reason = res.reason,
    stdout = clip(res.stdout or "", limit), stderr = clip((res.stderr or ""):sub(-limit), limit) }
  if #(res.stdout or "") > limit then out.stdout_truncated = true end
  if res.status ~= "ok" then out.message = res.message end
  return out
end

---------------------------------------------------------------------------------------------
-- Conversations

local function final_verdict(st, args)
  local A = st.A
  if type(args) ~= "table" then return nil, "arguments must be a JSON object" end
  local raw = A.mode == "pointwise" and args.score or args.verdict
  if raw == nil and A.mode ~= "pointwise" then raw = args.winner or args.best end
  local v = T.normalize(A.mode, raw, #st.task.candidates, A.scale)
  if v == nil then
    if A.mode == "pointwise" then
      return nil, string.format("'score' must be a number from %g to %g", A.scale[1], A.scale[2])
    end
    return nil, "'verdict' is missing or not one of the allowed values"
  end
  return v, type(args.reason) == "string" and args.reason or nil
end

local function task_text(st, conv)
  local A = st.A
  local parts = {}
  if st.task.prompt then parts[#parts + 1] = "# Task\n\n" .. st.task.prompt end
  if A.mode == "pointwise" then
    parts[#parts + 1] = "# Response\n\n" .. st.task.candidates[1]
  else
    local word = A.mode == "listwise" and "Candidate" or "Response"
    for i = 1, #st.task.candidates do
      parts[#parts + 1] = "# " .. word .. " " .. T.letter(i) .. "\n\n" .. st.task.candidates[conv.perm[i]]
    end
  end
  local ask = {
    pointwise = string.format("Score the response from %g (worst) to %g (best).", A.scale[1], A.scale[2]),
    pairwise = "Decide which response is better: A, B, or Tie.",
    scaled = "Rate the pair: A>>B, A>B, A=B, B>A or B>>A.",
    listwise = "Pick the best candidate.",
  }
  parts[#parts + 1] = ask[A.mode]
  return table.concat(parts, "\n\n")
end

local function system_text(st, tools)
  local A = st.A
  if A.system then return A.system end
  local lines = { "You are a careful, impartial judge. Do not let the order, length or style of the "
    .. "responses sway you; prefer hard evidence (references, verifiers, checks you run) over impressions." }
  if tools.use_skill then
    lines[#lines + 1] = "A skill with evaluation guidance is available. Load it with use_skill, then "
      .. "read (view_resource) or run (run_resource) only the resources you need."
    lines[#lines + 1] = "Available skill: " .. st.skill.name .. ": " .. (st.skill.description or "")
  end
  lines[#lines + 1] = string.format("Budget: %d turns, %d distinct resource views, %d runs "
    .. "(run_resource, run_python, run_lua). When you are confident, call final_answer.",
    A.max_turns, A.max_views, A.max_runs)
  return table.concat(lines, "\n")
end

-- The tools of a conversation in this setting: tool_only keeps run_python, run_lua and
-- final_answer; flat_prompt (resources in the prompt) only final_answer.
local function tools_for(st)
  local A, enabled = st.A, {}
  local s = st.setting
  for t in pairs(A.tools) do
    if s == "tool_only" then
      enabled[t] = (t == "run_python" or t == "run_lua" or t == "final_answer") or nil
    elseif s == "flat_prompt" then
      enabled[t] = t == "final_answer" or nil
    else
      enabled[t] = true
    end
  end
  local list = {}
  for _, name in ipairs(TOOL_NAMES) do
    if enabled[name] then
      list[#list + 1] = name == "final_answer" and st.final_tool or T.TOOLS[name]
    end
  end
  return enabled, list
end

local function flat_resources(st)
  local parts = {}
  for _, r in ipairs(st.list) do
    if r.body ~= "evidence" and not (r.body == "fn" and r.runnable) then
      local text = resource_text(st, r)
      if text then
        parts[#parts + 1] = "## Resource " .. r.id .. " (" .. r.type .. ")\n\n"
          .. utf8_cut(text, 0, st.A.max_view_chars)
      end
    end
  end
  if #parts == 0 then return nil end
  return "# Evaluation guidance\n\n" .. (st.A.instructions and (st.A.instructions .. "\n\n") or "")
    .. table.concat(parts, "\n\n")
end

local function new_conv(st, order, perm)
  local conv = { order = order, perm = perm, label_of = {}, turn = 0, views = 0, runs = 0,
    viewed = {}, loaded = false, phase = "loop", errors = {}, sent = 0 }
  for i, orig in ipairs(perm) do conv.label_of[orig] = T.letter(i) end
  conv.enabled, conv.tools = tools_for(st)
  local user = task_text(st, conv)
  if st.setting == "flat_prompt" then
    local flat = flat_resources(st)
    if flat then user = flat .. "\n\n" .. user end
  end
  conv.messages = { { role = "system", content = system_text(st, conv.enabled) },
    { role = "user", content = user } }
  if st.setting == "baseline" then conv.phase = "direct" end
  conv.trace = { order = order, perm = json.array(perm), turns = {} }
  return conv
end

-- The note hook (A.note, or the mock script named by the mock_script setting): text appended
-- to the agent's own user message of each request. info: {phase, turn, order, mode, skill,
-- prompt, candidates (texts in this conversation's order), resources (viewable ids), tools}.
local function note(st, conv, msg, info)
  local fn = st.note
  if not fn then return end
  info.order, info.mode, info.skill = conv.order, st.A.mode, st.skill.name
  info.prompt = st.task.prompt
  local cands = {}
  for i = 1, #st.task.candidates do cands[i] = st.task.candidates[conv.perm[i]] end
  info.candidates = cands
  local ids = {}
  for _, r in ipairs(st.list) do
    if not (r.body == "evidence") then ids[#ids + 1] = r.id end
  end
  info.resources = ids
  info.tools = conv.enabled
  info.scale = st.A.scale
  local ok, extra = pcall(fn, info)
  if ok and type(extra) == "string" and extra ~= "" then
    msg.content = msg.content .. "\n\n" .. extra
  end
end

local function direct_messages(st, conv)
  local A = st.A
  return {
    { role = "system", content = "You are a careful, impartial judge. Do not let the order, length "
      .. "or style of the responses sway you. Reason briefly, then give your verdict." },
    { role = "user", content = task_text(st, conv) .. "\n\n"
      .. T.text_format(A.mode, #st.task.candidates, A.scale) },
  }
end

-- The next request of a conversation, by phase; records what was sent in the trace.
local function request_for(st, conv)
  local A = st.A
  local req = { model = A.model, temperature = A.temperature, max_tokens = A.max_tokens,
    timeout = A.timeout, retries = A.retries }
  local phase = conv.phase
  local msgs
  if phase == "direct" then
    msgs = direct_messages(st, conv)
    note(st, conv, msgs[2], { phase = "direct", turn = conv.turn })
    conv.trace.direct = msgs
    req.messages = msgs
    return req, msgs
  end
  if phase == "loop" then
    conv.turn = conv.turn + 1
    local last = conv.messages[#conv.messages]
    note(st, conv, last, { phase = "loop", turn = conv.turn })
    req.tools = conv.tools
    req.tool_choice = "auto"
  elseif phase == "forced" then
    local m = { role = "user", content = "Your budget is used up. Call final_answer now with your verdict." }
    conv.messages[#conv.messages + 1] = m
    note(st, conv, m, { phase = "forced", turn = conv.turn })
    req.tools = { st.final_tool }
    req.tool_choice = { type = "function", ["function"] = { name = "final_answer" } }
  elseif phase == "plain" then
    local m = { role = "user", content = "Reply in plain text now, without tools. "
      .. T.text_format(A.mode, #st.task.candidates, A.scale) }
    conv.messages[#conv.messages + 1] = m
    note(st, conv, m, { phase = "plain", turn = conv.turn })
  end
  local sent = {}
  for i = conv.sent + 1, #conv.messages do sent[#sent + 1] = conv.messages[i] end
  conv.sent = #conv.messages
  req.messages = conv.messages
  return req, sent
end

local NEXT_PHASE = { loop = "forced", forced = "plain", plain = "direct", direct = "failed" }
local PATH = { loop = "final_answer", forced = "forced_final", plain = "plain_retry", direct = "direct_judge" }

local function finish(conv, verdict, path, reason)
  conv.verdict, conv.path, conv.reason, conv.phase = verdict, path, reason, "done"
end

local function advance(conv)
  conv.phase = NEXT_PHASE[conv.phase]
  if conv.phase == "failed" then conv.path = "judge_failed" end
end

-- Parses the tool calls of a reply: {id, name, raw, args | nil, err | nil}.
local function parse_calls(reply)
  local calls = {}
  for i, c in ipairs(type(reply.tool_calls) == "table" and reply.tool_calls or {}) do
    local f = type(c) == "table" and type(c["function"]) == "table" and c["function"] or {}
    local call = { id = type(c) == "table" and type(c.id) == "string" and c.id or ("call_" .. i),
      name = type(f.name) == "string" and f.name or "", raw = f.arguments }
    local raw = f.arguments
    if type(raw) == "table" then
      call.args = raw
      call.raw = json.encode(raw)
    elseif type(raw) ~= "string" then
      call.err = "the call has no arguments string"
    elseif raw:match("^%s*$") then
      call.args = {}
    else
      local doc, err = json.decode(raw)
      if type(doc) ~= "table" or json.is_array(doc) then
        call.err = "arguments are not a JSON object" .. (err and (": " .. tostring(err)) or "")
      else
        call.args = doc
      end
    end
    calls[i] = call
  end
  return calls
end

-- Handles a reply in the loop phase: a final answer ends the conversation; other calls become
-- pending executions (appended to `pending`).
local function on_loop_reply(st, conv, reply, turn, pending)
  local calls = parse_calls(reply)
  turn.calls = {}
  if #calls == 0 then
    local v = T.parse_text(st.A.mode, reply.content or "", #st.task.candidates, st.A.scale,
      reply.finish_reason == "length")
    if v ~= nil then return finish(conv, v, "content", nil) end
    conv.errors[#conv.errors + 1] = "loop: a reply without tool calls or a verdict"
    return advance(conv)
  end
  for i, c in ipairs(calls) do
    if c.name == "final_answer" and c.args and conv.enabled.final_answer then
      local v, why = final_verdict(st, c.args)
      if v ~= nil then
        for j, other in ipairs(calls) do
          turn.calls[j] = { id = other.id, name = other.name, arguments = other.raw,
            skipped = j ~= i or nil, final = j == i or nil }
        end
        return finish(conv, v, "final_answer", why)
      end
    end
  end
  local msg_calls = {}
  for i, c in ipairs(calls) do
    msg_calls[i] = { id = c.id, type = "function",
      ["function"] = { name = c.name, arguments = type(c.raw) == "string" and c.raw or "{}" } }
  end
  conv.messages[#conv.messages + 1] = { role = "assistant", content = reply.content or json.null,
    tool_calls = json.array(msg_calls) }
  conv.pending = {}
  for i, c in ipairs(calls) do
    local ex = { conv = conv, call = c, trace = { id = c.id, name = c.name, arguments = c.raw } }
    turn.calls[i] = ex.trace
    if i > st.A.max_calls_per_turn then
      ex.result = { error = "too many tool calls in one turn (at most " .. st.A.max_calls_per_turn .. ")" }
    elseif c.err then
      ex.result = { error = "malformed arguments for " .. c.name .. ": " .. c.err }
    elseif c.name == "final_answer" then
      local _, why = final_verdict(st, c.args)
      ex.result = { error = "final_answer rejected: " .. tostring(why) }
    elseif not conv.enabled[c.name] then
      local names = {}
      for _, n in ipairs(TOOL_NAMES) do if conv.enabled[n] then names[#names + 1] = n end end
      ex.result = { error = "unknown tool '" .. c.name .. "' (tools: " .. table.concat(names, ", ") .. ")" }
    else
      local ok, res, spec = pcall(HANDLERS[c.name], st, conv, c.args)
      if not ok then
        ex.result = { error = "the tool failed: " .. tostring(type(res) == "table" and res.reason or res) }
      elseif spec then
        ex.spec = spec
      else
        ex.result = res
      end
    end
    conv.pending[#conv.pending + 1] = ex
    pending[#pending + 1] = ex
  end
end

-- After a round's executions: tool messages, the status note, the turn budget.
local function close_turn(st, conv)
  for _, ex in ipairs(conv.pending or {}) do
    ex.trace.result = ex.result
    conv.messages[#conv.messages + 1] = { role = "tool", tool_call_id = ex.call.id,
      content = encode_result(ex.result, st.A.max_result_chars) }
  end
  conv.pending = nil
  if conv.turn >= st.A.max_turns then
    conv.phase = "forced"
    return
  end
  local left = string.format("[status] Turn %d of %d used; %d distinct views and %d runs left.",
    conv.turn, st.A.max_turns, st.A.max_views - conv.views, st.A.max_runs - conv.runs)
  if conv.enabled.use_skill and not conv.loaded then left = left .. " Load the skill with use_skill first." end
  conv.messages[#conv.messages + 1] = { role = "user", content = left .. " Call final_answer when you are ready." }
end

local function on_reply(st, conv, reply, pending)
  local turn = { phase = conv.phase, turn = conv.turn }
  conv.trace.turns[#conv.trace.turns + 1] = turn
  turn.sent = conv.last_sent
  if reply.error then
    turn.error = reply.error .. " (" .. tostring(reply.code) .. ")"
    conv.errors[#conv.errors + 1] = conv.phase .. ": " .. turn.error
    return advance(conv)
  end
  turn.reply = { content = reply.content, tool_calls = reply.tool_calls, finish_reason = reply.finish_reason }
  local phase = conv.phase
  if phase == "loop" then return on_loop_reply(st, conv, reply, turn, pending) end
  if phase == "forced" then
    for _, c in ipairs(parse_calls(reply)) do
      if c.name == "final_answer" and c.args then
        local v, why = final_verdict(st, c.args)
        if v ~= nil then return finish(conv, v, "forced_final", why) end
      end
    end
  end
  local v = T.parse_text(st.A.mode, reply.content or "", #st.task.candidates, st.A.scale,
    reply.finish_reason == "length")
  if v ~= nil then return finish(conv, v, PATH[phase], nil) end
  conv.errors[#conv.errors + 1] = phase .. ": no verdict in the reply"
  return advance(conv)
end

-- Runs the pending executions of a round: all run_python programs in one srm.code.run_many.
local function execute(st, pending)
  local specs, owners = {}, {}
  for _, ex in ipairs(pending) do
    if ex.spec then
      specs[#specs + 1] = ex.spec
      owners[#owners + 1] = ex
    end
  end
  if #specs > 0 then
    local ok, outs = pcall(require("srm.code").run_many, specs)
    for i, ex in ipairs(owners) do
      if ok then
        ex.result = python_result(st, outs[i])
      else
        ex.result = { error = "run_python failed: " .. tostring(outs) }
      end
    end
  end
end

---------------------------------------------------------------------------------------------
-- Verdicts: orders, readout, result

local function to_original(A, conv, v)
  if A.mode == "pointwise" then return v end
  if A.mode == "listwise" then return conv.perm[v] end
  if conv.perm[1] == 1 then return v end
  return A.mode == "pairwise" and T.PAIR_FLIP[v] or T.SCALED_FLIP[v]
end

local function side(A, v)
  if A.mode == "pairwise" then return v ~= "tie" and v or nil end
  if v == "A>>B" or v == "A>B" then return "A" end
  if v == "B>>A" or v == "B>A" then return "B" end
  return nil
end

-- The readout: hard, runnable resources checked on every candidate. A decisive one (exactly one
-- candidate passes; pointwise: the response passes or fails) vetoes a contrary verdict.
local function readout(st, verdict)
  local A = st.A
  if A.readout == false then return verdict, { decision = "off" } end
  local n = #st.task.candidates
  local evidence = {}
  local first_conv = st.convs[1]
  for _, r in ipairs(st.list) do
    if r.hard_or_soft == "hard" and r.runnable then
      local per = {}
      for orig = 1, n do
        local res = run_on(st, first_conv, r, orig, nil)
        per[orig] = res
      end
      evidence[#evidence + 1] = { resource = r, results = per }
    end
  end
  if type(A.readout) == "function" then
    local info = { mode = A.mode, verdict = verdict, hard = {}, record = st.safe }
    for _, e in ipairs(evidence) do info.hard[e.resource.id] = e.results end
    local ok, out = pcall(A.readout, info)
    if ok and type(out) == "table" and out.verdict ~= nil and out.verdict ~= verdict then
      return out.verdict, { decision = "overridden", by = "readout function", from = verdict,
        to = out.verdict, reason = out.reason }
    end
    return verdict, { decision = ok and "kept" or "error", by = "readout function",
      reason = not ok and tostring(out) or nil }
  end
  if #evidence == 0 then return verdict, { decision = "none", reason = "no hard evidence" } end
  local thr = A.readout_threshold
  for _, e in ipairs(evidence) do
    local pass, known, passing = {}, true, {}
    local scores = {}
    for orig = 1, n do
      local res = e.results[orig]
      if res.status ~= "ok" or type(res.score) ~= "number" then known = false break end
      pass[orig] = res.score >= thr
      scores[T.letter(orig)] = res.score
      if pass[orig] then passing[#passing + 1] = orig end
    end
    local implied, contrary
    if known and A.mode == "pointwise" then
      local norm = (verdict - A.scale[1]) / (A.scale[2] - A.scale[1])
      implied = pass[1] and A.scale[2] or A.scale[1]
      contrary = (pass[1] and norm < 0.5) or (not pass[1] and norm >= 0.5)
    elseif known and #passing == 1 then
      local winner = passing[1]
      if A.mode == "listwise" then
        implied = winner
        contrary = verdict ~= winner
      else
        local letter = T.letter(winner)
        implied = A.mode == "pairwise" and letter or (letter == "A" and "A>B" or "B>A")
        contrary = side(A, verdict) ~= letter
      end
    end
    if implied ~= nil then
      local d = { by = e.resource.id, scores = scores }
      if contrary then
        d.decision, d.from, d.to = "overridden", verdict, implied
        return implied, d
      end
      d.decision = "confirmed"
      return verdict, d
    end
  end
  return verdict, { decision = "kept", reason = "hard evidence inconclusive" }
end

local function score_of(A, v)
  if A.mode == "pointwise" then return (v - A.scale[1]) / (A.scale[2] - A.scale[1]) end
  if A.mode == "pairwise" then return T.PAIR_SCORE[v] end
  if A.mode == "scaled" then return T.SCALED_SCORE[v] end
  return nil
end

local function show(A, v)
  if A.mode == "listwise" then return T.letter(v) end
  return tostring(v)
end

-- Whether record is one of the skill's self-test records (they are not rows: not traced).
local function self_test_record(skill, record)
  for _, case in ipairs(skill.tests or {}) do
    if type(case) == "table" and rawequal(case.record, record) then return true end
  end
  return false
end

local function run_record(A, skill, record, ctx)
  local task, why = build_task(A, record)
  if not task then return { status = "input_error", reason = why } end
  -- --set setting=NAME applies to data records; self-tests (canned replies written for the
  -- policy's own setting) keep the policy's setting.
  local setting = A.setting
  local self_test = self_test_record(skill, record)
  local s = ctx and ctx.settings and ctx.settings.setting
  if type(s) == "string" and SETTINGS[s] and not self_test then setting = s end
  local st = new_record_state(A, skill, record, ctx, setting)
  st.task = task
  st.note = A.note
  local script = ctx and ctx.settings and ctx.settings.mock_script
  if not st.note and not self_test and type(script) == "string" and script ~= "" then
    st.note = T.MOCK_SCRIPTS[script]
    if not st.note then
      local names = {}
      for k in pairs(T.MOCK_SCRIPTS) do names[#names + 1] = k end
      table.sort(names)
      return { status = "input_error", reason = "unknown mock_script '" .. script .. "' (known: "
        .. table.concat(names, ", ") .. ")" }
    end
  end
  st.final_tool = T.final_schema(A.mode, A.scale, #task.candidates)
  local n = #task.candidates
  local identity = {}
  for i = 1, n do identity[i] = i end
  st.convs = { new_conv(st, 1, identity) }
  if A.swap and n == 2 then st.convs[2] = new_conv(st, 2, { 2, 1 }) end
  -- Lockstep rounds: one llm.batch per round for every conversation still going.
  local rounds = 0
  while true do
    local active = {}
    for _, c in ipairs(st.convs) do
      if c.phase ~= "done" and c.phase ~= "failed" then active[#active + 1] = c end
    end
    rounds = rounds + 1
    if #active == 0 or rounds > A.max_turns + 8 then break end
    local reqs = {}
    for i, c in ipairs(active) do
      local req, sent = request_for(st, c)
      reqs[i] = req
      c.last_sent = sent
    end
    local replies = llm.batch(reqs)
    local pending = {}
    for i, c in ipairs(active) do on_reply(st, c, replies[i], pending) end
    execute(st, pending)
    for _, c in ipairs(active) do
      if c.pending then close_turn(st, c) end
    end
  end
  -- Orders -> one verdict in the record's own labels.
  local orders, verdicts, failed = {}, {}, nil
  for i, c in ipairs(st.convs) do
    local o = { path = c.path or "judge_failed", turns = c.turn, views = c.views, runs = c.runs,
      reason = c.reason and clip(c.reason, 500) or nil }
    if c.verdict ~= nil then
      verdicts[i] = to_original(A, c, c.verdict)
      o.verdict = show(A, verdicts[i])
    else
      failed = failed or c
      if #c.errors > 0 then o.errors = json.array(c.errors) end
    end
    c.trace.path, c.trace.verdict = o.path, o.verdict
    orders[i] = o
  end
  local detail = { setting = setting, orders = json.array(orders) }
  local result
  if failed then
    detail.readout = { decision = "skipped", reason = "no verdict" }
    result = { status = "judge_failed", detail = detail,
      reason = "no verdict after the finalization chain (order " .. failed.order .. "): "
        .. table.concat(failed.errors, "; ") }
  else
    local v = verdicts[1]
    local agreement = "one order"
    if #verdicts == 2 then
      if verdicts[2] == verdicts[1] then
        agreement = "both orders agree"
      else
        v = A.mode == "pairwise" and "tie" or "A=B"
        agreement = "orders disagree (" .. show(A, verdicts[1]) .. " vs " .. show(A, verdicts[2]) .. "): tie"
      end
    end
    local final, ro = readout(st, v)
    detail.readout = ro
    local paths = {}
    for i, o in ipairs(orders) do paths[i] = o.path end
    local reason = string.format("verdict %s (%s; %s)", show(A, final), agreement, table.concat(paths, ", "))
    if ro.decision == "overridden" then
      reason = reason .. "; readout overrode " .. show(A, ro.from) .. " with hard evidence from " .. ro.by
    end
    if orders[1].reason then reason = reason .. ": " .. orders[1].reason end
    result = { status = "ok", score = score_of(A, final), verdict = final, reason = reason, detail = detail }
    if A.mode == "pointwise" then
      detail.score = final
      result.verdict = nil
    elseif A.mode == "listwise" then
      if not A.gold then
        result.status, result.score = "abstain", nil
        result.reason = reason .. " (no gold field to score against)"
      else
        local gold = math.tointeger(tonumber(record[A.gold]))
        if not gold then
          return { status = "input_error", reason = "record has no integer gold index in '" .. A.gold .. "'" }
        end
        result.score = final == gold and 1 or 0
      end
    end
  end
  local trace = require "srm.trace"
  if trace.enabled() and not self_test then
    local convs = {}
    for i, c in ipairs(st.convs) do convs[i] = c.trace end
    trace.emit(record, { skill = skill.name, evidence = A.name, mode = A.mode, setting = setting,
      status = result.status, verdict = result.verdict, score = result.score,
      readout = detail.readout, orders = json.array(convs) })
  end
  return result
end

---------------------------------------------------------------------------------------------
-- The policy node

--[[
agent.policy{mode = "pairwise", ...} -> node (srm.policy.agent)
See docs/agent.md for the options. level: the error() level of the skill's call.
]]
function M.policy(opts, level)
  level = level or 2
  local A = configure(opts, level + 1)
  local item = { kind = "agent", skill = nil }
  item.describe = string.format("agent judge (%s, %s; %d turns, %d views, %d runs)", A.mode,
    A.setting, A.max_turns, A.max_views, A.max_runs)
  function item.run(record, ctx)
    if not item.skill then error("policy.agent: the node is not part of a declared skill", 0) end
    return run_record(A, item.skill, record, ctx)
  end
  -- Called by srm.skill once the skill is built; returns an error message or nil.
  function item.bind(skill)
    for _, card in ipairs(skill.resources or {}) do
      if card.body == "field" then
        for part in card.field:gmatch("[^.]+") do
          if resources.is_blocked(A.blocked, part) then
            return "resource '" .. card.id .. "' reads the blocked record key '" .. part
              .. "' (labels never reach the judge; change blocked_keys to allow it)"
          end
        end
      end
    end
    item.skill = skill
    return nil
  end
  registry[A.name] = item
  local node = {
    kind = "policy.agent", agent_name = A.name, agent_item = item,
    eval = function(_, env) return env:eval(A.name) end,
    names = function() return { A.name } end,
    describe = function(_, indent)
      indent = type(indent) == "number" and string.rep(" ", indent) or (indent or "")
      return indent .. item.describe
    end,
  }
  return node
end

-- provided(root, declared_evidence) -> {name = item}: the evidence items agent nodes in the
-- policy bring (srm.skill adds them to the skill's evidence).
function M.provided(root, declared)
  local out = {}
  if type(root) ~= "table" then return out end
  if root.agent_item then
    registry[root.agent_name] = nil
    out[root.agent_name] = root.agent_item
    return out
  end
  declared = type(declared) == "table" and declared or {}
  for _, name in ipairs(root:names()) do
    if declared[name] == nil and registry[name] then
      out[name] = registry[name]
      registry[name] = nil
    end
  end
  return out
end

M.configure = configure -- for tests
M.parse_text = T.parse_text

return M
