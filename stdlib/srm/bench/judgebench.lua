-- srm.bench.judgebench: JudgeBench (ScalerLab/JudgeBench, ICLR 2025) loader and official metric.
--
-- Loader: each pair {pair_id, source, question, response_A, response_B, label} becomes two
-- judge tasks, "<pair_id>:g1" (response_A shown as A) and "<pair_id>:g2" (the two swapped), the
-- two games of the official protocol. The seed is not used (the protocol has no randomness).
--
-- Metric (utils/metrics.py of the official repository): per pair, the decision of game 1 and the
-- decision of game 2 flipped back to the original order each vote +1 when they equal the label
-- and -1 when they equal the flipped label (a tie "A=B" or no decision votes 0); the pair is
-- correct when the sum is > 0. Score = 100 * correct / pairs, overall and per source prefix
-- (mmlu-pro, livebench-reasoning, livebench-math, livecodebench).
local C = require "srm.bench.common"

local M = { name = "judgebench", options = {} }

M.CATEGORIES = { "mmlu-pro", "livebench-reasoning", "livebench-math", "livecodebench" }

local FLIP = { ["A>B"] = "B>A", ["B>A"] = "A>B", ["A=B"] = "A=B" }
local DECISION = { A = "A>B", B = "B>A", tie = "A=B" }
local NATIVE = { ["A>B"] = "A>B", ["A>>B"] = "A>B", ["B>A"] = "B>A", ["B>>A"] = "B>A", ["A=B"] = "A=B" }

-- expand(record, ctx) -> tasks
function M.expand(r)
  local id = C.str(r.pair_id)
  if not id then error("record has no string 'pair_id'", 0) end
  local label = r.label
  if label ~= "A>B" and label ~= "B>A" then error("pair " .. id .. ": label must be 'A>B' or 'B>A'", 0) end
  local q = r.question or r.prompt
  if type(q) ~= "string" or type(r.response_A) ~= "string" or type(r.response_B) ~= "string" then
    error("pair " .. id .. ": needs string question, response_A and response_B", 0)
  end
  local source = C.str(r.source) or ""
  local function task(game, a, b)
    return {
      id = id .. ":g" .. game, prompt = q, response_A = a, response_B = b,
      bench = { bench = "judgebench", sample = id, game = game, games = 2, label = label,
        source = source, swapped = game == 2 },
    }
  end
  return { task(1, r.response_A, r.response_B), task(2, r.response_B, r.response_A) }
end

-- The pair a prediction belongs to, created on first sight.
local function pair_of(pairs, order, id, label, source)
  local p = pairs[id]
  if not p then
    p = { label = label, source = source, decisions = {} }
    pairs[id] = p
    order[#order + 1] = id
  end
  return p
end

-- Whether a result line is JudgeBench's own output format (judgments[].decision).
function M.is_native(row)
  return row.bench == nil and type(row.judgments) == "table"
end

-- evaluate(predictions, ctx) -> metrics. predictions: srm rows with row.bench from this loader,
-- or JudgeBench output lines ({pair_id, source, label, judgments = [{decision}, {decision}]}).
function M.evaluate(preds)
  local pairs, order = {}, {}
  local games, no_verdict = 0, 0
  for _, p in ipairs(preds) do
    if M.is_native(p) then
      local id = C.str(p.pair_id) or tostring(#order + 1)
      local pr = pair_of(pairs, order, id, p.label, C.str(p.source) or "")
      for g = 1, 2 do
        local j = p.judgments[g]
        local d = type(j) == "table" and NATIVE[j.decision] or nil
        games = games + 1
        if not d then no_verdict = no_verdict + 1 end
        pr.decisions[g] = d
      end
    else
      local b = p.bench
      local pr = pair_of(pairs, order, b.sample, b.label, b.source or "")
      local v = C.pair_verdict(p)
      local d = v and DECISION[v] or nil
      games = games + 1
      if not d then no_verdict = no_verdict + 1 end
      pr.decisions[b.game] = d
    end
  end
  local total = { pairs = 0, correct = 0 }
  local by = {}
  for _, c in ipairs(M.CATEGORIES) do by[c] = { pairs = 0, correct = 0 } end
  for _, id in ipairs(order) do
    local pr = pairs[id]
    local label = pr.label
    local flipped = FLIP[label]
    local sum = 0
    local d1, d2 = pr.decisions[1], pr.decisions[2]
    d2 = d2 and FLIP[d2] or nil
    for _, d in ipairs({ d1 or false, d2 or false }) do
      if d == label then sum = sum + 1 elseif d == flipped then sum = sum - 1 end
    end
    local ok = sum > 0 and 1 or 0
    total.pairs, total.correct = total.pairs + 1, total.correct + ok
    for _, c in ipairs(M.CATEGORIES) do
      if pr.source:sub(1, #c) == c then
        by[c].pairs, by[c].correct = by[c].pairs + 1, by[c].correct + ok
      end
    end
  end
  local function score(t) return t.pairs > 0 and 100 * t.correct / t.pairs or C.null end
  local by_source = {}
  for _, c in ipairs(M.CATEGORIES) do
    by_source[c] = { pairs = by[c].pairs, correct = by[c].correct, score = score(by[c]) }
  end
  return {
    benchmark = "judgebench", pairs = total.pairs, correct = total.correct, games = games,
    no_verdict = no_verdict, score = score(total), by_source = by_source,
  }
end

function M.markdown(m)
  local rows = { { "overall", tostring(m.pairs), C.fmt(m.score) } }
  for _, c in ipairs(M.CATEGORIES) do
    local s = m.by_source[c]
    rows[#rows + 1] = { c, tostring(s.pairs), C.fmt(s.score) }
  end
  return "# JudgeBench\n\n" .. C.md_table({ "split", "pairs", "score" }, rows)
    .. string.format("\n%d games, %d without a valid verdict. Score = 100 x correct pairs / pairs "
      .. "(two games per pair, the second flipped back; correct when the votes sum > 0).\n",
      m.games, m.no_verdict)
end

return M
