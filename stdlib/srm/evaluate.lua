-- Evaluating one record against a loaded skill: lazy evidence, the policy, and the result that
-- becomes the output row. Runs inside the record's coroutine (a scheduler task), so evidence
-- that waits on the network simply yields.
local policy = require "srm.policy"
local sandbox = require "srm.sandbox"
local llm = require "srm.llm"

-- Records take turns at the endpoints: record n starts on endpoint n mod #endpoints and stays
-- there (server-side prefix caches), failing over only when it must.
local sticky_counter = 0

local M = {}

-- Statuses an evidence item or a row may carry (ARCHITECTURE §6).
M.STATUSES = {
  ok = true, abstain = true, judge_failed = true, timeout = true, skill_error = true,
  input_error = true, budget_exceeded = true, sandbox_error = true,
}

-- Error handler: keeps structured errors ({code=...}) as they are and adds a traceback to
-- string errors. The reason is the first line (file:line: message); the traceback goes into
-- the component's detail for debugging.
local function on_error(err)
  if type(err) == "table" then return err end
  local msg = tostring(err)
  return { code = "ERROR", reason = msg, traceback = debug.traceback(msg, 2) }
end

-- Maps a caught error object to a result table.
function M.error_result(err)
  if type(err) ~= "table" then err = { code = "ERROR", reason = tostring(err) } end
  local reason = err.reason ~= nil and tostring(err.reason) or "error"
  if err.code == "ABSTAIN" then
    return { status = "abstain", reason = reason }
  elseif err.code == sandbox.ERROR_CODE then
    return { status = "sandbox_error", reason = reason }
  elseif err.code == "JUDGE_FAILED" then
    return { status = "judge_failed", reason = reason }
  end
  return { status = "skill_error", reason = reason, detail = err.traceback and { traceback = err.traceback } or nil }
end

-- Normalizes whatever an evidence run returned into {score, status, reason, detail}.
local function normalize(name, v, detail)
  local tv = type(v)
  if tv == "boolean" then return { score = v and 1 or 0, status = "ok", detail = detail } end
  if tv == "number" then
    if v ~= v then return { status = "skill_error", reason = "evidence '" .. name .. "' returned NaN" } end
    return { score = v, status = "ok", detail = detail }
  end
  if tv ~= "table" then
    return { status = "skill_error", reason = "evidence '" .. name .. "' returned " .. tv .. " (expected a number, boolean or result table)" }
  end
  local status = v.status or "ok"
  if not M.STATUSES[status] then
    return { status = "skill_error", reason = "evidence '" .. name .. "' returned unknown status '" .. tostring(status) .. "'" }
  end
  if status == "ok" and type(v.score) ~= "number" then
    return { status = "skill_error", reason = "evidence '" .. name .. "' returned status ok without a numeric score" }
  end
  return { score = status == "ok" and v.score or nil, status = status, reason = v.reason,
    detail = v.detail, verdict = v.verdict }
end

-- Expansion: an evidence result that carries `components = {name = result, ...}` stands for
-- several components (IFEval: one per instruction). Those results (normalized like evidence
-- results) go into the row's components in place of the evidence's own entry, and the evidence's
-- `detail` table goes into the row's `detail`. The policy still sees the evidence's own result.
-- A component name or a detail key used twice in one row turns the evidence into a skill_error.
local function expand(name, v, res, components, row_detail)
  for sub in pairs(v.components) do
    if type(sub) ~= "string" or components[sub] ~= nil then
      return { status = "skill_error", reason = "evidence '" .. name .. "' returned a component name '"
        .. tostring(sub) .. "' that is not a string or is already taken" }
    end
  end
  if res.detail ~= nil and type(res.detail) ~= "table" then
    return { status = "skill_error", reason = "evidence '" .. name
      .. "' expands into components, so its detail must be a table (the row's detail)" }
  end
  for k in pairs(res.detail or {}) do
    if row_detail[k] ~= nil then
      return { status = "skill_error", reason = "evidence '" .. name .. "' returned the row detail key '"
        .. tostring(k) .. "' that is already taken" }
    end
  end
  for sub, sv in pairs(v.components) do components[sub] = normalize(sub, sv) end
  for k, dv in pairs(res.detail or {}) do row_detail[k] = dv end
  return nil
end

-- track(usage [, canned]): model calls made by the running coroutine from now on are counted
-- in usage, and start on the next endpoint in turn (see sticky_counter).
function M.track(usage, canned)
  sticky_counter = sticky_counter + 1
  llm.track(coroutine.running(), usage, sticky_counter, canned)
end

-- The evidence a skill's policy evaluates whatever the results: the children of an aggregate
-- that prefetches at its start, else the first evidence it looks up. Found by running the
-- policy against a probe that stops at that point; only items that declare a `prefetch`
-- request are kept. Cached on the skill.
local STOP = {}
function M.first_evidence(skill)
  if skill.first_evidence then return skill.first_evidence end
  local names = {}
  local function stop_at(list)
    for _, n in ipairs(list) do
      local item = skill.evidence[n]
      if item and type(item.prefetch) == "function" then names[#names + 1] = n end
    end
    error(STOP, 0)
  end
  local env = policy.env(function(name) stop_at { name } end, stop_at)
  local ok, err = pcall(skill.policy.eval, skill.policy, env)
  if ok or err ~= STOP then names = {} end
  skill.first_evidence = names
  return names
end

-- evaluate(skill, record, ctx [, canned [, fetched]]) -> result
-- result = {score, status, reason, verdict, excluded, components = {name = result}, detail,
--           usage}; canned: self-test replies for llm calls (see srm.llm.track); fetched:
-- replies already fetched for some evidence (name -> reply, see M.first_evidence)
function M.evaluate(skill, record, ctx, canned, fetched_ahead)
  local components, row_detail = {}, {}
  local usage = {}
  M.track(usage, canned)
  -- Replies fetched ahead for evidence items that declare a `prefetch` request (LLM judges):
  -- an aggregate policy asks for its children together, and their first calls go out in one
  -- llm.batch round trip. run receives its reply as the third argument.
  local fetched = {}
  for name, reply in pairs(fetched_ahead or {}) do fetched[name] = reply end
  local function prefetch(names)
    local reqs, owners = {}, {}
    for _, name in ipairs(names) do
      local item = skill.evidence[name]
      if type(item.prefetch) == "function" then
        local ok, req = pcall(item.prefetch, record, ctx)
        if ok and type(req) == "table" then
          reqs[#reqs + 1] = req
          owners[#owners + 1] = name
        end
      end
    end
    if #reqs < 2 then return end -- nothing to gain
    local ok, replies = pcall(llm.batch, reqs)
    if not ok then return end -- each item makes (and reports) its own call instead
    for i, name in ipairs(owners) do fetched[name] = replies[i] end
  end
  local function lookup(name)
    local item = skill.evidence[name]
    local ok, v, detail = xpcall(item.run, on_error, record, ctx, fetched[name])
    local res = ok and normalize(name, v, detail) or M.error_result(v)
    -- Only a successful result expands; a failed one stays a single component with its reason.
    if ok and type(v) == "table" and type(v.components) == "table" and res.status == "ok" then
      local failed = expand(name, v, res, components, row_detail)
      if not failed then return res end
      res = failed
    end
    components[name] = res
    return res
  end
  local env = policy.env(lookup, prefetch)
  local ok, outcome = xpcall(skill.policy.eval, on_error, skill.policy, env)
  local result
  if not ok then
    result = M.error_result(outcome)
  else
    result = {
      score = outcome.score, status = outcome.status or "ok", reason = outcome.reason,
      verdict = outcome.verdict, excluded = outcome.excluded,
    }
    -- a policy node may add row detail of its own; its keys win over the evidence's
    if type(outcome.detail) == "table" then
      for k, dv in pairs(outcome.detail) do row_detail[k] = dv end
    end
    if result.status == "ok" and type(result.score) ~= "number" then
      result.status = "abstain"
      result.reason = result.reason or "the policy reached no score"
    end
  end
  if result.status ~= "ok" then result.score = nil end
  result.components = components
  result.detail = next(row_detail) ~= nil and row_detail or nil
  result.usage = usage
  return result
end

return M
