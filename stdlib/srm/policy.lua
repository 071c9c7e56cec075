-- srm.policy: how a skill combines its evidence into one score.
--
-- A policy is a tree of nodes whose leaves are evidence names. Each node is a plain table
--   {kind = "policy.weighted", eval = fn(self, env) -> outcome, names = fn(self) -> {names},
--    describe = fn(self, indent) -> text}
-- with its configuration held in the closures (nothing shared or mutable between nodes or
-- skills). An outcome is
--   {score = number|nil, status = "ok"|"abstain"|<failure>, reason = string,
--    decided = boolean, excluded = {evidence names}, verdict = any|nil}
-- Evidence that abstains or fails is EXCLUDED from aggregates, never counted as 0; the names
-- of excluded evidence propagate up in `excluded`. A child "counts" when its outcome has
-- status "ok" and a numeric score.
--
-- Evaluation is lazy: evidence is only run when a node asks for it (env:evidence), so a
-- cascade whose first stage decides never runs the later stages' evidence (judge calls).
local options = require "srm.options"

local policy = {}

local check = options.check

-------------------------------------------------------------------------------------------
-- helpers

local floor, abs, mtype, format = math.floor, math.abs, math.type, string.format

-- Numbers in reasons: integers and integral floats without a decimal part. On the per-record
-- path, so library functions are locals.
local function fmt(x)
  if mtype(x) == "integer" then return tostring(x) end
  if type(x) ~= "number" then return tostring(x) end
  if x == floor(x) and abs(x) < 1e15 then return format("%d", x) end
  return format("%.4g", x)
end

local function counts(o)
  return o.status == "ok" and type(o.score) == "number"
end

-- New array: the names of a and b, each once, in first-seen order.
local function union(into, seen, list)
  for _, name in ipairs(list or {}) do
    if not seen[name] then
      seen[name] = true
      into[#into + 1] = name
    end
  end
end

local function indent_of(indent)
  if type(indent) == "number" then return string.rep(" ", indent) end
  return indent or ""
end

local function is_node(x)
  return type(x) == "table" and type(x.eval) == "function" and type(x.names) == "function"
    and type(x.describe) == "function"
end

-- Error levels: every helper that can raise takes `level`, the error() level of the skill's
-- call as seen from the helper itself, and passes level + 1 to the helpers it calls. Helpers
-- never tail-call a raising helper (a tail call would drop a frame and shift the level).

-- Validates a child (evidence name or node).
local function check_child(api, what, x, level)
  if type(x) == "string" then
    if x == "" then error(api .. ": " .. what .. " is an empty evidence name", level) end
    return x
  end
  if is_node(x) then return x end
  local got = type(x)
  if got == "table" then got = "a table that is not a policy" end
  error(api .. ": " .. what .. " must be an evidence name or a policy, got " .. got, level)
end

local function label(child)
  if type(child) == "string" then return child end
  return child.kind or "policy"
end

local function child_names(child)
  if type(child) == "string" then return {child} end
  return child:names()
end

local function names_of(children)
  local out, seen = {}, {}
  for _, c in ipairs(children) do union(out, seen, child_names(c)) end
  return out
end

local function describe_child(child, indent)
  if type(child) == "string" then return indent .. child end
  return child:describe(indent)
end

-- "excluded b (abstain), c (http_error)" for the names that did not count, or "".
local function excluded_text(excluded, statuses)
  if #excluded == 0 then return "" end
  local parts = {}
  for i, name in ipairs(excluded) do
    parts[i] = statuses[name] and (name .. " (" .. statuses[name] .. ")") or name
  end
  return "; excluded " .. table.concat(parts, ", ")
end

-- Status of an aggregate none of whose children counted: the first failure, else abstain.
local function none_status(outcomes)
  for _, o in ipairs(outcomes) do
    if o.status ~= "ok" and o.status ~= "abstain" then return o.status end
  end
  return "abstain"
end

-- Evaluates children in order; returns outcomes, the excluded union and name -> status for
-- the evidence that did not count (for reasons).
local function eval_all(env, children)
  env:prefetch(children)
  local outcomes, excluded, seen, statuses = {}, {}, {}, {}
  for i, c in ipairs(children) do
    local o = env:eval(c)
    outcomes[i] = o
    union(excluded, seen, o.excluded)
    if type(c) == "string" and not counts(o) then statuses[c] = o.status end
  end
  return outcomes, excluded, statuses
end

local function not_decided(status, reason, excluded)
  return {score = nil, status = status, reason = reason, decided = false, excluded = excluded}
end

-------------------------------------------------------------------------------------------
-- env

-- The methods every env shares (one table per record instead of three closures per record).
local Env = {}
Env.__index = Env

-- env:prefetch(children): an aggregate will evaluate all these children, so evidence that
-- calls a model can send its requests together (one round trip instead of one per item).
function Env.prefetch(self, children)
  if not self.fetch then return end
  local names = {}
  for _, c in ipairs(children) do
    if type(c) == "string" and self.results[c] == nil then names[#names + 1] = c end
  end
  if #names > 1 then self.fetch(names) end
end

function Env.evidence(self, name)
  local r = self.results[name]
  if r == nil then
    r = self.lookup(name)
    if type(r) ~= "table" then
      error("policy: evidence '" .. tostring(name) .. "' gave " .. type(r)
        .. ", expected a result table", 2)
    end
    self.results[name] = r
    self.order[#self.order + 1] = name
  end
  return r
end

function Env.eval(self, child)
  if type(child) == "string" then
    local r = self:evidence(child)
    local status = r.status or "ok"
    local score = r.score
    local reason = r.reason
    if status == "ok" and (type(score) ~= "number" or score ~= score) then
      status = "skill_error"
      reason = "evidence '" .. child .. "' has status ok but score " .. tostring(score)
      score = nil
    end
    local ok = status == "ok"
    if reason == nil then
      reason = ok and (child .. " scored " .. fmt(score)) or (child .. " " .. status)
    end
    return {
      score = ok and score or nil, status = status, reason = tostring(reason), decided = ok,
      excluded = ok and {} or {child}, verdict = r.verdict,
    }
  end
  local o = child:eval(self)
  if type(o) ~= "table" then
    error("policy: " .. tostring(child.kind) .. " gave " .. type(o) .. ", expected an outcome", 2)
  end
  return o
end

--[[
policy.env(lookup [, prefetch]) -> env
lookup(name) runs evidence `name` and returns its result table. env:evidence(name) calls it at
most once per name (env.order lists names in order of first evaluation); env:eval(child)
evaluates a policy node or an evidence name and returns an outcome; env:prefetch(children)
hands prefetch the names of the children not evaluated yet, when there are two or more.
]]
function policy.env(lookup, prefetch)
  if type(lookup) ~= "function" then -- per record: a plain check, not options.check_type
    error("policy.env: argument #1 must be a function, got " .. type(lookup), 2)
  end
  return setmetatable({ order = {}, results = {}, lookup = lookup, fetch = prefetch }, Env)
end

--[[
policy.of(x) -> node
An evidence name becomes a node that evaluates it (so `policy = "answer"` works); a node is
returned as is. Raises for anything else.
]]
local function of(x, level)
  local child = check_child("policy.of", "argument #1", x, level + 1)
  if type(child) ~= "string" then return child end
  local name = child
  return {
    kind = "policy.evidence",
    eval = function(_, env) return env:eval(name) end,
    names = function() return {name} end,
    describe = function(_, indent) return indent_of(indent) .. name end,
  }
end

function policy.of(x)
  local node = of(x, 3)
  return node
end

-------------------------------------------------------------------------------------------
-- weighted

-- Parses both forms: {a = 1, b = -0.5} and {{child, weight}, ...}. Array entries come first
-- in their order, then named entries in sorted name order.
local function weighted_entries(spec, level)
  local api = "policy.weighted"
  if type(spec) ~= "table" then
    error(api .. ": expected a table of weights, got " .. type(spec), level)
  end
  local entries, names = {}, {}
  local n = #spec
  for k, v in pairs(spec) do
    if type(k) == "string" then
      names[#names + 1] = k
    elseif math.type(k) ~= "integer" or k < 1 or k > n then
      error(api .. ": unexpected key " .. tostring(k), level)
    end
  end
  for i = 1, n do
    local e = spec[i]
    if type(e) ~= "table" or is_node(e) or e[1] == nil then
      error(api .. ": entry #" .. i .. " must be {evidence_name_or_policy, weight}", level)
    end
    for k in pairs(e) do
      if k ~= 1 and k ~= 2 then
        error(api .. ": entry #" .. i .. " has unexpected key " .. tostring(k), level)
      end
    end
    entries[#entries + 1] = {
      child = check_child(api, "entry #" .. i, e[1], level + 1),
      weight = e[2],
      what = "entry #" .. i,
    }
  end
  table.sort(names)
  for _, name in ipairs(names) do
    entries[#entries + 1] = {child = name, weight = spec[name], what = "weight of '" .. name .. "'"}
  end
  local positive = false
  for _, e in ipairs(entries) do
    local w = e.weight
    if type(w) ~= "number" or w ~= w or w == math.huge or w == -math.huge then
      error(api .. ": " .. e.what .. " must be a finite number, got "
        .. (type(w) == "number" and tostring(w) or type(w)), level)
    end
    if w > 0 then positive = true end
  end
  if #entries == 0 then error(api .. ": no evidence to weigh", level) end
  if not positive then error(api .. ": needs at least one positive weight", level) end
  return entries
end

--[[
policy.weighted{a = 1, b = 2, c = -0.5} or policy.weighted{{child, weight}, ...} -> node
score = sum(w*s, w > 0) / sum(w, w > 0 and counted) + sum(w*s, w < 0): positive weights form a
weighted mean over the children that count, negative weights are unnormalised penalties.
Zero-weight children are never evaluated. Decided when a positive-weight child counts.
]]
function policy.weighted(spec)
  local entries = weighted_entries(spec, 3)
  local children = {}
  for i, e in ipairs(entries) do children[i] = e.child end
  local node = {kind = "policy.weighted"}
  function node.eval(_, env)
    local excluded, seen, statuses = {}, {}, {}
    local pos_sum, pos_w, pen, penalties = 0.0, 0.0, 0.0, {}
    local used, positives = {}, {}
    local wanted = {}
    for _, e in ipairs(entries) do
      if e.weight ~= 0 then wanted[#wanted + 1] = e.child end
    end
    env:prefetch(wanted)
    for _, e in ipairs(entries) do
      if e.weight ~= 0 then
        local o = env:eval(e.child)
        union(excluded, seen, o.excluded)
        if counts(o) then
          used[#used + 1] = label(e.child)
          if e.weight > 0 then
            pos_sum = pos_sum + e.weight * o.score
            pos_w = pos_w + e.weight
          else
            pen = pen + e.weight * o.score
            penalties[#penalties + 1] = label(e.child)
          end
        else
          if type(e.child) == "string" then statuses[e.child] = o.status end
          if e.weight > 0 then positives[#positives + 1] = o end
        end
      end
    end
    local tail = excluded_text(excluded, statuses)
    if pos_w == 0 then
      return not_decided(none_status(positives),
        "weighted: no positive-weight evidence counted" .. tail, excluded)
    end
    local score = pos_sum / pos_w + pen
    local reason = "weighted " .. fmt(score) .. " from " .. table.concat(used, ", ")
    if #penalties > 0 then reason = reason .. " (penalty " .. fmt(pen) .. ")" end
    return {score = score, status = "ok", reason = reason .. tail, decided = true,
            excluded = excluded}
  end
  function node.names() return names_of(children) end
  function node.describe(_, indent)
    indent = indent_of(indent)
    local lines = {indent .. "weighted mean (negative weights are penalties):"}
    for _, e in ipairs(entries) do
      if type(e.child) == "string" then
        lines[#lines + 1] = indent .. "  " .. fmt(e.weight) .. " x " .. e.child
      else
        lines[#lines + 1] = indent .. "  " .. fmt(e.weight) .. " x\n"
          .. describe_child(e.child, indent .. "    ")
      end
    end
    return table.concat(lines, "\n")
  end
  return node
end

-------------------------------------------------------------------------------------------
-- mean, min, max, vote

local function children_of(api, spec, schema, level)
  check(api, spec, schema, level + 1)
  local children = {}
  for i = 1, #spec do children[i] = check_child(api, "child #" .. i, spec[i], level + 1) end
  if #children == 0 then error(api .. ": needs at least one child", level) end
  return children
end

local function list_describe(title, children)
  return function(_, indent)
    indent = indent_of(indent)
    local lines = {indent .. title}
    for _, c in ipairs(children) do lines[#lines + 1] = describe_child(c, indent .. "  ") end
    return table.concat(lines, "\n")
  end
end

-- A node folding the counted scores of its children with combine(scores) -> score, text.
local function fold_node(kind, title, children, combine)
  local name = kind:match("^policy%.(.*)$")
  return {
    kind = kind,
    eval = function(_, env)
      local outcomes, excluded, statuses = eval_all(env, children)
      local scores, used = {}, {}
      for i, o in ipairs(outcomes) do
        if counts(o) then
          scores[#scores + 1] = o.score
          used[#used + 1] = label(children[i])
        end
      end
      local tail = excluded_text(excluded, statuses)
      if #scores == 0 then
        return not_decided(none_status(outcomes), name .. ": no child counted" .. tail, excluded)
      end
      local score, text = combine(scores)
      return {score = score, status = "ok", decided = true, excluded = excluded,
              reason = name .. " " .. fmt(score) .. " over " .. table.concat(used, ", ")
                .. (text or "") .. tail}
    end,
    names = function() return names_of(children) end,
    describe = list_describe(title, children),
  }
end

local list_schema = {["..."] = "string|table"}

--[[ policy.mean{child, ...} -> node: the mean of the children that count. ]]
function policy.mean(spec)
  local children = children_of("policy.mean", spec, list_schema, 3)
  return fold_node("policy.mean", "mean of:", children, function(scores)
    local sum = 0.0
    for _, s in ipairs(scores) do sum = sum + s end
    return sum / #scores
  end)
end

--[[ policy.min{child, ...} -> node: the lowest score among the children that count. ]]
function policy.min(spec)
  local children = children_of("policy.min", spec, list_schema, 3)
  return fold_node("policy.min", "minimum of:", children, function(scores)
    return math.min(table.unpack(scores))
  end)
end

--[[ policy.max{child, ...} -> node: the highest score among the children that count. ]]
function policy.max(spec)
  local children = children_of("policy.max", spec, list_schema, 3)
  return fold_node("policy.max", "maximum of:", children, function(scores)
    return math.max(table.unpack(scores))
  end)
end

--[[
policy.vote{child, ..., threshold = 0.5, tie = 0.5} -> node
Each child that counts passes when its score >= threshold. Score 1 when more pass than fail,
0 when fewer, `tie` on a tie.
]]
function policy.vote(spec)
  local children = children_of("policy.vote", spec,
    {["..."] = "string|table", threshold = "number?", tie = "number?"}, 3)
  local threshold = spec.threshold or 0.5
  local tie = spec.tie or 0.5
  local node = fold_node("policy.vote",
    "majority vote (pass at score >= " .. fmt(threshold) .. ", tie scores " .. fmt(tie) .. "):",
    children, function(scores)
      local pass, fail = 0, 0
      for _, s in ipairs(scores) do
        if s >= threshold then pass = pass + 1 else fail = fail + 1 end
      end
      local score = pass > fail and 1 or (pass < fail and 0 or tie)
      return score, " (" .. pass .. " pass, " .. fail .. " fail)"
    end)
  return node
end

-------------------------------------------------------------------------------------------
-- single-child nodes: threshold, decide, veto

local function single_child(api, x, level)
  local child = check_child(api, "argument #1", x, level + 1)
  return child
end

-- Outcome of a wrapper whose child did not count: not decided, the child's status.
local function pass_through(o, reason)
  local excluded = {}
  union(excluded, {}, o.excluded)
  return not_decided(o.status, reason, excluded)
end

--[[
policy.threshold{child, at = 0.5, above = 1, below = 0} -> node
Score `above` when the child's score >= at, else `below`.
]]
function policy.threshold(spec)
  check("policy.threshold", spec,
    {["..."] = "string|table", at = "number?", above = "number?", below = "number?"})
  if #spec ~= 1 then
    error("policy.threshold: needs exactly one child, got " .. #spec, 2)
  end
  local child = single_child("policy.threshold", spec[1], 3)
  local at, above, below = spec.at or 0.5, spec.above or 1, spec.below or 0
  return {
    kind = "policy.threshold",
    eval = function(_, env)
      local o = env:eval(child)
      if not counts(o) then
        return pass_through(o, "threshold: " .. label(child) .. " did not count: " .. o.reason)
      end
      local hit = o.score >= at
      local excluded = {}
      union(excluded, {}, o.excluded)
      return {score = hit and above or below, status = "ok", decided = true, excluded = excluded,
              reason = "threshold: " .. label(child) .. " " .. fmt(o.score)
                .. (hit and " >= " or " < ") .. fmt(at)}
    end,
    names = function() return child_names(child) end,
    describe = function(_, indent)
      indent = indent_of(indent)
      return indent .. "threshold at " .. fmt(at) .. " (" .. fmt(above) .. " at or above, "
        .. fmt(below) .. " below):\n" .. describe_child(child, indent .. "  ")
    end,
  }
end

--[[
policy.decide(child) -> node
Decided with the child's score when the child counts; otherwise not decided (for cascades).
]]
function policy.decide(x)
  local child = single_child("policy.decide", x, 3)
  return {
    kind = "policy.decide",
    eval = function(_, env)
      local o = env:eval(child)
      if not counts(o) then
        return pass_through(o, "decide: " .. label(child) .. " did not count: " .. o.reason)
      end
      local excluded = {}
      union(excluded, {}, o.excluded)
      return {score = o.score, status = "ok", decided = true, excluded = excluded,
              reason = o.reason, verdict = o.verdict}
    end,
    names = function() return child_names(child) end,
    describe = function(_, indent)
      indent = indent_of(indent)
      return indent .. "decide with:\n" .. describe_child(child, indent .. "  ")
    end,
  }
end

local function veto(x, opts, level)
  local child = single_child("policy.veto", x, level + 1)
  if opts ~= nil then
    check("policy.veto", opts, {below = "number?", score = "number?"}, level + 1)
  end
  opts = opts or {}
  local below, vscore = opts.below or 1, opts.score or 0
  local name = label(child)
  return {
    kind = "policy.veto",
    eval = function(_, env)
      local o = env:eval(child)
      local excluded = {}
      union(excluded, {}, o.excluded)
      if counts(o) and o.score < below then
        return {score = vscore, status = "ok", decided = true, excluded = excluded,
                reason = "vetoed by " .. name .. ": " .. o.reason}
      end
      if o.status ~= "ok" and o.status ~= "abstain" then
        -- A gate that could not be checked (missing field, skill error, judge failure) fails
        -- closed: the record gets that status instead of passing the gate unchecked.
        return {score = nil, status = o.status, decided = true, excluded = excluded,
                reason = "veto " .. name .. " could not be checked: " .. o.reason}
      end
      local why
      if counts(o) then
        why = name .. " scored " .. fmt(o.score) .. " >= " .. fmt(below)
      else
        why = name .. " did not count (" .. o.status .. "): " .. o.reason
      end
      return not_decided("ok", "veto did not fire: " .. why, excluded)
    end,
    names = function() return child_names(child) end,
    describe = function(_, indent)
      indent = indent_of(indent)
      return indent .. "veto (score " .. fmt(vscore) .. " when below " .. fmt(below) .. "):\n"
        .. describe_child(child, indent .. "  ")
    end,
  }
end

--[[
policy.veto(child [, {below = 1, score = 0}]) -> node
Decided with score opts.score when the child counts and scores below opts.below; otherwise
(passed, abstained or failed) decides nothing: not decided, score nil, status "ok".
]]
function policy.veto(x, opts)
  local node = veto(x, opts, 3)
  return node
end

-------------------------------------------------------------------------------------------
-- cascade, gate

local function cascade(stages)
  return {
    kind = "policy.cascade",
    eval = function(_, env)
      local excluded, seen, outcomes = {}, {}, {}
      for i, stage in ipairs(stages) do
        local o = env:eval(stage)
        outcomes[i] = o
        union(excluded, seen, o.excluded)
        if o.decided then
          return {score = o.score, status = o.status, decided = true, excluded = excluded,
                  reason = "stage " .. i .. " (" .. label(stage) .. ") decided: " .. o.reason,
                  verdict = o.verdict}
        end
      end
      -- Nothing decided: a failed stage (e.g. a missing reference field) makes the whole
      -- cascade fail with that status and reason rather than hide behind "abstain".
      local status = none_status(outcomes)
      local why = ""
      for _, o in ipairs(outcomes) do
        if o.status == status and o.reason then
          why = ": " .. o.reason
          break
        end
      end
      if why == "" then why = excluded_text(excluded, {}) end
      return not_decided(status, "no stage of the cascade decided" .. why, excluded)
    end,
    names = function() return names_of(stages) end,
    describe = function(_, indent)
      indent = indent_of(indent)
      local lines = {indent .. "cascade (the first stage that decides gives the score):"}
      for i, s in ipairs(stages) do
        lines[#lines + 1] = indent .. "  stage " .. i .. ":\n"
          .. describe_child(s, indent .. "    ")
      end
      return table.concat(lines, "\n")
    end,
  }
end

--[[
policy.cascade{stage, ...} -> node
Evaluates the stages in order and stops at the first decided outcome (later stages' evidence
never runs). When none decides: not decided, score nil, status "abstain".
]]
function policy.cascade(spec)
  local stages = children_of("policy.cascade", spec, list_schema, 3)
  return cascade(stages)
end

--[[
policy.gate(child, then_node [, veto_opts]) -> node
Same as policy.cascade{policy.veto(child, veto_opts), then_node}.
]]
function policy.gate(x, then_node, opts)
  local v = veto(x, opts, 3)
  local rest = check_child("policy.gate", "argument #2", then_node, 3)
  local node = cascade({v, rest})
  node.kind = "policy.gate"
  return node
end

policy.overlong_penalty = require("srm.tok_evidence").overlong_penalty
function policy.agent(opts) local node = require("srm.agent").policy(opts, 3) return node end

return policy
