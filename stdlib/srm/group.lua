-- srm.group: best-of-N selection, `srm run --mode group`. A record is one group: a prompt and
-- its N candidate completions (an array field, `responses` by default). The strategy picks one
-- candidate; the row names it (`detail.selected`, 0-based) and each candidate's score
-- (`detail.scores`, aligned with the candidates).
--
-- Strategies:
--   argmax      the skill scores every distinct candidate as a pointwise record (the group's
--               fields plus `response`); the highest score wins, the earliest on a tie
--   knockout    sequential knockout with a pairwise skill (the group's fields plus `response_A`,
--               `response_B`): the champion starts as the first candidate and meets the others
--               in order; the judge's pick becomes champion; a tie or no valid verdict keeps the
--               champion (JETTS's rule)
--   tournament  single elimination: candidates meet in pairs (1-2, 3-4, ...), an odd one out
--               advances by a bye, the winner of each match (the earlier one on a tie or no
--               valid verdict) goes to the next round
--   majority    reference-free majority vote over final answers (srm.math.extract, classes by
--               srm.math.equal): the first candidate of the largest class, the class seen first on
--               a tie; the skill is not called
--   random      a seeded uniform pick (--seed and the record id); the skill is not called
--
-- Identical completions are judged once: pairwise strategies run over the distinct texts (in
-- order of first appearance) and argmax scores each distinct text once; a duplicate gets its
-- first copy's score. Under argmax the first model call of every candidate goes out in one
-- llm.batch (when the skill's policy starts with a model judge), so a group's candidates are
-- judged concurrently; the matches of the pairwise strategies depend on each other and run in
-- turn. Each match shows the two texts in a seeded random order (the coin depends
-- on --seed and the record id), so a judge's position bias does not favour the champion.
--
-- Row score: argmax, the selected candidate's score; knockout and tournament, the fraction of its
-- matches the selected candidate won (1 when there was nothing to judge); majority, the selected
-- answer's share of the votes; random, 1/N.
local json = require "srm.json"
local evaluate = require "srm.evaluate"
local llm = require "srm.llm"
local smath = require "srm.math"
local common = require "srm.bench.common"
local trace = require "srm.trace"

local M = {}

M.MAX_CANDIDATES = 4096
M.STRATEGIES = { "argmax", "knockout", "tournament", "majority", "random" }

local known = {}
for _, s in ipairs(M.STRATEGIES) do known[s] = true end

-- configure{strategy=, field=, seed=} -> options; raises on a bad strategy or field name.
function M.configure(opts)
  local strategy = opts.strategy or "argmax"
  if not known[strategy] then
    error("--strategy " .. tostring(strategy) .. ": expected " .. table.concat(M.STRATEGIES, ", "), 0)
  end
  local field = opts.field or "responses"
  if type(field) ~= "string" or not field:match("^[%w_%-]+$") then
    error("--candidates " .. tostring(field) .. ": expected a field name", 0)
  end
  return { strategy = strategy, field = field, seed = math.tointeger(opts.seed) or 0 }
end

---------------------------------------------------------------------------------------------
-- Majority vote (also JETTS's majority@k reference, srm.bench.jetts)
---------------------------------------------------------------------------------------------

-- majority(answers, n) -> index, votes | nil: among answers[1..n] (strings, or nil for a
-- candidate without a final answer), the first index of the largest class of equal answers; on
-- a tie, the class seen first. nil when no candidate has an answer.
function M.majority(answers, n)
  local classes = {} -- {rep = index, answer = text, count}
  for i = 1, n do
    local a = answers[i]
    if a then
      local found
      for _, c in ipairs(classes) do
        if c.answer == a or smath.equal(c.answer, a) then found = c break end
      end
      if found then found.count = found.count + 1
      else classes[#classes + 1] = { rep = i, answer = a, count = 1 } end
    end
  end
  local best
  for _, c in ipairs(classes) do
    if not best or c.count > best.count then best = c end
  end
  if not best then return nil end
  return best.rep, best.count
end

---------------------------------------------------------------------------------------------
-- One group
---------------------------------------------------------------------------------------------

local function candidate_text(v)
  if type(v) == "string" then return v end
  if type(v) == "table" then
    for _, k in ipairs { "content", "text", "response" } do
      if type(v[k]) == "string" then return v[k] end
    end
  end
  return nil
end

-- The candidates' texts, or nil and the input_error reason.
local function candidates_of(record, field)
  local list = record[field]
  if type(list) ~= "table" or not json.is_array(list) then
    return nil, "group mode: field '" .. field .. "' must be an array of candidate completions"
      .. (list == nil and " (it is missing; name another field with --candidates)" or "")
  end
  if #list == 0 then return nil, "group mode: field '" .. field .. "' is an empty array" end
  if #list > M.MAX_CANDIDATES then
    return nil, string.format("group mode: %d candidates, at most %d", #list, M.MAX_CANDIDATES)
  end
  local texts = {}
  for i, v in ipairs(list) do
    local t = candidate_text(v)
    if not t then
      return nil, string.format("group mode: candidate %d of '%s' is neither a string nor an object "
        .. "with a string 'content', 'text' or 'response'", i - 1, field)
    end
    texts[i] = t
  end
  return texts
end

-- Distinct texts in order of first appearance: reps (candidate indices) and rep_of[i].
local function distinct(texts)
  local first, reps, rep_of = {}, {}, {}
  for i, t in ipairs(texts) do
    local r = first[t]
    if not r then
      r = i
      first[t] = i
      reps[#reps + 1] = i
    end
    rep_of[i] = r
  end
  return reps, rep_of
end

local USAGE_KEYS = llm.USAGE_KEYS

-- A group's state while its strategy runs.
local Job = {}
Job.__index = Job

local function new_job(skill, record, ctx, texts, opts)
  local base = {}
  for k, v in pairs(record) do
    if k ~= opts.field then base[k] = v end
  end
  local id = trace.id_of(record)
  return setmetatable({
    skill = skill, ctx = ctx, base = base, texts = texts, id = id, judged = 0, usage = {},
    rng = common.rng(opts.seed, "group:" .. tostring(id)), memo = {}, nmatches = 0,
    wins = {}, matches = {}, failed = {},
  }, Job)
end

function Job:add_usage(u)
  for _, k in ipairs(USAGE_KEYS) do
    local v = u and u[k]
    if v then self.usage[k] = (self.usage[k] or 0) + v end
  end
end

-- The record the skill sees: the group's fields plus `extra`.
function Job:record(extra, label)
  local rec = {}
  for k, v in pairs(self.base) do rec[k] = v end
  for k, v in pairs(extra) do rec[k] = v end
  trace.note_id(rec, tostring(self.id) .. "/" .. label)
  return rec
end

-- Runs the skill on a record; accumulates usage. fetched: replies already in hand.
function Job:run_skill(rec, fetched)
  local r = evaluate.evaluate(self.skill, rec, self.ctx, nil, fetched)
  self.judged = self.judged + 1
  self:add_usage(r.usage)
  return r
end

-- The first model calls of every record, sent together in one llm.batch (the candidates of a
-- group are then judged at once instead of one after another): records[i] -> fetched table
-- for evaluate, or {} when the skill's policy starts with no model judge.
function Job:fetch_ahead(records)
  local fetched = {}
  for i = 1, #records do fetched[i] = {} end
  local names = evaluate.first_evidence(self.skill)
  if #names == 0 or #records < 2 then return fetched end
  local reqs, owners = {}, {}
  for i, rec in ipairs(records) do
    for _, name in ipairs(names) do
      local ok, req = pcall(self.skill.evidence[name].prefetch, rec, self.ctx)
      if ok and type(req) == "table" then
        reqs[#reqs + 1] = req
        owners[#owners + 1] = { i, name }
      end
    end
  end
  if #reqs < 2 then return fetched end
  local usage = {}
  evaluate.track(usage)
  local ok, replies = pcall(llm.batch, reqs)
  self:add_usage(usage)
  if not ok then return fetched end -- each evaluation makes (and reports) its own calls
  for k, o in ipairs(owners) do fetched[o[1]][o[2]] = replies[k] end
  return fetched
end

-- One match between candidates x and y (distinct texts): the winner's index, or nil for a tie or
-- no valid verdict (recorded in self.failed). Memoized on the unordered pair.
function Job:match(x, y)
  local key = math.min(x, y) .. "-" .. math.max(x, y)
  local m = self.memo[key]
  if not m then
    local first, second = x, y
    if self.rng:below(2) == 1 then first, second = y, x end
    local r = self:run_skill(self:record({ response_A = self.texts[first], response_B = self.texts[second] },
      (first - 1) .. "-" .. (second - 1)))
    local v = common.pair_verdict(r)
    m = { winner = v == "A" and first or v == "B" and second or nil }
    if v == nil then
      self.failed[#self.failed + 1] = string.format("%d vs %d: %s%s", first - 1, second - 1, r.status,
        r.reason and (": " .. tostring(r.reason)) or "")
    end
    self.memo[key] = m
    self.nmatches = self.nmatches + 1
  end
  for _, c in ipairs { x, y } do
    self.matches[c] = (self.matches[c] or 0) + 1
  end
  if m.winner then self.wins[m.winner] = (self.wins[m.winner] or 0) + 1 end
  return m.winner
end

-- Per-candidate win fractions (duplicates share their first copy's), and the selected's.
function Job:pairwise_result(winner, rep_of)
  local scores = {}
  local function frac(c)
    local n = self.matches[c] or 0
    if n == 0 then return json.null end
    return (self.wins[c] or 0) / n
  end
  for i = 1, #self.texts do scores[i] = frac(rep_of[i]) end
  local s = scores[winner]
  local res = { selected = winner, score = s == json.null and 1 or s, scores = scores }
  if self.nmatches > 0 and #self.failed == self.nmatches then
    res.status = "judge_failed"
    res.reason = "no match of the group got a valid verdict; first: " .. self.failed[1]
  end
  return res
end

local strategies = {}

function strategies.knockout(job, rep_of, reps)
  local champion = reps[1]
  for k = 2, #reps do
    local w = job:match(champion, reps[k])
    if w then champion = w end
  end
  return job:pairwise_result(champion, rep_of)
end

function strategies.tournament(job, rep_of, reps)
  local round = reps
  while #round > 1 do
    local nxt = {}
    for k = 1, #round, 2 do
      local a, b = round[k], round[k + 1]
      if b then
        nxt[#nxt + 1] = job:match(a, b) or a
      else
        nxt[#nxt + 1] = a -- bye
      end
    end
    round = nxt
  end
  return job:pairwise_result(round[1], rep_of)
end

function strategies.argmax(job, rep_of, reps)
  local records = {}
  for k, c in ipairs(reps) do records[k] = job:record({ response = job.texts[c] }, tostring(c - 1)) end
  local fetched = job:fetch_ahead(records)
  local results = {}
  for k, c in ipairs(reps) do results[c] = job:run_skill(records[k], fetched[k]) end
  local scores, statuses, best, any_failed = {}, {}, nil, false
  for i = 1, #job.texts do
    local r = results[rep_of[i]]
    statuses[i] = r.status
    if r.status == "ok" then
      scores[i] = r.score
      if not best or r.score > scores[best] then best = i end
    else
      scores[i] = json.null
      any_failed = true
    end
  end
  local res = { scores = scores, statuses = any_failed and statuses or nil }
  if not best then
    local r = results[reps[1]]
    res.status = r.status
    res.reason = "no candidate got a score; candidate 0: " .. r.status
      .. (r.reason and (": " .. tostring(r.reason)) or "")
    res.selected = 1
    return res
  end
  res.selected, res.score = best, scores[best]
  return res
end

function strategies.majority(job)
  local n = #job.texts
  local answers, shown = {}, {}
  for i, t in ipairs(job.texts) do
    answers[i] = smath.extract(t)
    shown[i] = answers[i] or json.null
  end
  local rep, votes = M.majority(answers, n)
  local res = { answers = shown }
  if not rep then
    res.selected, res.status = 1, "abstain"
    res.reason = "no candidate has a final answer to vote on"
    return res
  end
  res.selected, res.score, res.votes = rep, votes / n, votes
  return res
end

function strategies.random(job)
  local n = #job.texts
  return { selected = job.rng:below(n) + 1, score = 1 / n }
end

-- evaluate(skill, record, ctx, opts) -> result (the evaluator's shape, see srm.evaluate)
function M.evaluate(skill, record, ctx, opts)
  local texts, why = candidates_of(record, opts.field)
  if not texts then return { status = "input_error", reason = why, components = {} } end
  local job = new_job(skill, record, ctx, texts, opts)
  local reps, rep_of = distinct(texts)
  local res = strategies[opts.strategy](job, rep_of, reps)
  local detail = {
    strategy = opts.strategy,
    selected = res.selected - 1,
    candidates = #texts,
    distinct = #reps,
    judged = job.judged,
    scores = res.scores,
    statuses = res.statuses,
    answers = res.answers,
    votes = res.votes,
    failed_matches = #job.failed > 0 and job.failed or nil,
  }
  local status = res.status or "ok"
  return {
    score = status == "ok" and res.score or nil,
    status = status,
    reason = res.reason,
    verdict = res.selected - 1,
    components = {},
    detail = detail,
    usage = job.usage,
  }
end

return M
