-- srm.bench.jetts: JETTS response reranking (SalesforceAIResearch/jetts-benchmark, ICML 2025):
-- best-of-N selection by a pairwise judge, scored with the benchmark's pre-computed response
-- scores.
--
-- Records (reranking_and_refinement/*.jsonl): {query = {content, metadata} | "text", responses =
-- [{content, metadata = {score, answer?}} | {content, score} ...]} with up to 10 responses, the
-- first one greedy. A record id comes from `id`, `query.metadata.id`, else its position.
--
-- Loader: a seeded candidate order (a permutation of the N responses) and, for every unordered
-- pair {x < y}, one task "<id>:<x>-<y>" whose display order (who is A) is a seeded coin. All
-- C(N, 2) pairs are expanded so every knockout path is available to `srm eval`.
--
-- Metric, per prompt, then the mean over prompts (scores as stored, e.g. 0/1 correctness):
--   seqko@k   sequential knockout over the first k candidates of the seeded order: the
--             champion starts as candidate 1 and meets candidates 2..k in turn; the judge's pick
--             becomes champion; a tie or no valid verdict keeps the champion (JETTS's knockout
--             keeps its first entrant on a tie). Score of the final champion. k = 1, 2, 4, 8, 10
--             (k > N uses all N)
--   pass@1    score of the first (greedy) response
--   random@10 mean score of the (up to 10) responses: the expected score of a uniform pick
--   oracle@10 best score among them
--   majority@10  score of the first response of the largest final-answer class (answers from
--             metadata.answer, else srm.math.extract; classes by srm.math.equal; ties between
--             classes go to the class seen first; responses without an answer are left out, and
--             a prompt where none has one scores its first response)
local C = require "srm.bench.common"
local smath = require "srm.math"
local group = require "srm.group"

local M = { name = "jetts", options = {} }

M.KS = { 1, 2, 4, 8, 10 }

local function content_of(v)
  if type(v) == "string" then return v end
  if type(v) == "table" and type(v.content) == "string" then return v.content end
  return nil
end

local function meta_of(v)
  return type(v) == "table" and type(v.metadata) == "table" and v.metadata or {}
end

-- The index (1-based) of the majority-vote representative among the first n responses (the
-- first one when none has an answer); the vote itself is srm.group's, shared with best-of-N.
local function majority(answers, n)
  return (group.majority(answers, n)) or 1
end
M.majority = majority

function M.expand(r, ctx)
  local query = content_of(r.query) or (type(r.prompt) == "string" and r.prompt) or nil
  if not query then error("record has no 'query' (string or {content})", 0) end
  local id = C.str(r.id) or C.str(meta_of(r.query).id) or tostring(ctx.index)
  if type(r.responses) ~= "table" or #r.responses < 1 then error("prompt " .. id .. ": no responses", 0) end
  local texts, scores, answers = {}, {}, {}
  for k, resp in ipairs(r.responses) do
    local t = content_of(resp)
    if not t then error("prompt " .. id .. ": response " .. k .. " has no content", 0) end
    local meta = meta_of(resp)
    local s = tonumber(meta.score) or (type(resp) == "table" and tonumber(resp.score)) or nil
    if not s then error("prompt " .. id .. ": response " .. k .. " has no numeric score", 0) end
    texts[k], scores[k] = t, s
    local a = meta.answer or (type(resp) == "table" and resp.answer) or nil
    if a ~= nil then a = tostring(a) else a = smath.extract(t) end
    answers[k] = a
  end
  local n = #texts
  local rng = C.rng(ctx.seed, "jetts:" .. id)
  local order = {}
  for k = 1, n do order[k] = k end
  rng:shuffle(order)
  local tasks = {}
  for x = 1, n - 1 do
    for y = x + 1, n do
      local first, second = x, y
      if rng:below(2) == 1 then first, second = y, x end
      tasks[#tasks + 1] = { id = id .. ":" .. x .. "-" .. y, prompt = query,
        response_A = texts[first], response_B = texts[second],
        bench = { bench = "jetts", sample = id, pair = x .. "-" .. y, first = first, second = second,
          candidates = n, order = order, scores = scores, majority = majority(answers, math.min(n, 10)) } }
    end
  end
  if n == 1 then
    tasks[1] = { id = id .. ":1-1", prompt = query, response_A = texts[1], response_B = texts[1],
      bench = { bench = "jetts", sample = id, pair = "1-1", first = 1, second = 1, candidates = 1,
        order = order, scores = scores, majority = 1 } }
  end
  return tasks
end

-- The winner of candidates x and y (1-based response indices), or nil for a tie / no verdict.
local function winner(pr, x, y)
  local key = math.min(x, y) .. "-" .. math.max(x, y)
  local v = pr.verdicts[key]
  local t = pr.tasks[key]
  if not t then return nil end
  if v == "A" then return t.first elseif v == "B" then return t.second end
  return nil
end

function M.evaluate(preds)
  local prompts, order, rows, no_verdict = C.group_by_sample(preds,
    function(b) return { b = b, verdicts = {}, tasks = {} } end,
    function(pr, p, b)
      local v = C.pair_verdict(p)
      pr.verdicts[b.pair], pr.tasks[b.pair] = v, b
      return v ~= nil
    end)
  local sums = { pass1 = 0, random = 0, oracle = 0, majority = 0 }
  local ko = {}
  for _, k in ipairs(M.KS) do ko[k] = 0 end
  for _, id in ipairs(order) do
    local pr = prompts[id]
    local b = pr.b
    local scores, n = b.scores, b.candidates
    local top = math.min(n, 10)
    local first, mean, best = C.reference_picks(scores, top)
    sums.pass1 = sums.pass1 + first
    sums.random = sums.random + mean
    sums.oracle = sums.oracle + best
    sums.majority = sums.majority + scores[b.majority]
    for _, k in ipairs(M.KS) do
      local champ = b.order[1]
      for i = 2, math.min(k, n) do
        local w = winner(pr, champ, b.order[i])
        if w then champ = w end
      end
      ko[k] = ko[k] + scores[champ]
    end
  end
  local np = #order
  local function avg(x) return np > 0 and x / np or C.null end
  local seqko = {}
  for _, k in ipairs(M.KS) do seqko["seqko@" .. k] = avg(ko[k]) end
  return { benchmark = "jetts", prompts = np, rows = rows, no_verdict = no_verdict, seqko = seqko,
    references = { ["pass@1"] = avg(sums.pass1), ["random@10"] = avg(sums.random),
      ["oracle@10"] = avg(sums.oracle), ["majority@10"] = avg(sums.majority) } }
end

function M.markdown(m)
  local rows = {}
  for _, k in ipairs(M.KS) do rows[#rows + 1] = { "SeqKO@" .. k, C.fmt(m.seqko["seqko@" .. k], 100) } end
  for _, name in ipairs({ "pass@1", "random@10", "oracle@10", "majority@10" }) do
    rows[#rows + 1] = { name, C.fmt(m.references[name], 100) }
  end
  return "# JETTS reranking\n\n" .. C.md_table({ "selection", "score" }, rows)
    .. string.format("\n%d prompts, %d rows, %d without a valid verdict. Mean response score "
      .. "x 100.\n", m.prompts, m.rows, m.no_verdict)
end

return M
