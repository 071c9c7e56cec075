-- srm.bench.bestofn: best-of-N selection with labelled candidates, for `srm run --mode group`.
--
-- Records, either shape:
--   generic  {id?, prompt | question, answer?, responses = [{content | text | solution,
--            label | is_correct | score} ...]}
--   GSM8K's released model solutions (openai/grade-school-math, example_model_solutions.jsonl):
--            {question, ground_truth, <model> = {solution, is_correct} ...}; every field whose
--            value is an object with a string `solution` is one candidate, in sorted key order
--            (175b_finetuning, 175b_verification, 6b_finetuning, 6b_verification)
-- A record id comes from `id`, else its 1-based position.
--
-- Loader: one group task per record, {id, prompt, answer?, responses = [texts]}, with the labels
-- (1/0 for correct/incorrect, or the numeric score) in bench.labels. `answer` is the reference
-- (GSM8K: ground_truth) for reference-based skills under --strategy argmax; reference-free
-- strategies (majority, random, pairwise judges) never read it.
--
-- Metric, mean over groups of the label of:
--   selected  the candidate the row names (row.detail.selected, 0-based); a row without a
--             valid selection (status other than ok/abstain, or no detail.selected) scores 0
--   first     candidate 0 (pass@1 of the first sampled completion)
--   random    the mean label of the group (the expected label of a uniform pick)
--   oracle    the best label of the group
local C = require "srm.bench.common"

local M = { name = "bestofn", options = {} }

local function label_of(v)
  if type(v) == "boolean" then return v and 1 or 0 end
  return tonumber(v)
end

-- The candidates of a record: texts, labels, names (GSM8K model keys) or raises.
local function candidates_of(r, id)
  local texts, labels, names = {}, {}, {}
  if type(r.responses) == "table" then
    for k, c in ipairs(r.responses) do
      local t = type(c) == "string" and c or type(c) == "table" and (C.str(c.content) or C.str(c.text)
        or C.str(c.solution)) or nil
      if type(t) ~= "string" then error("record " .. id .. ": response " .. k .. " has no text", 0) end
      local l = type(c) == "table" and (label_of(c.label) or label_of(c.is_correct) or label_of(c.score))
      if not l then error("record " .. id .. ": response " .. k .. " has no label, is_correct or score", 0) end
      texts[k], labels[k] = t, l
    end
  else
    for _, key in ipairs(C.sorted_keys(r)) do
      local c = r[key]
      if type(c) == "table" and type(c.solution) == "string" then
        local l = label_of(c.is_correct)
        if not l then error("record " .. id .. ": solution '" .. key .. "' has no is_correct", 0) end
        texts[#texts + 1], labels[#labels + 1], names[#names + 1] = c.solution, l, key
      end
    end
  end
  if #texts == 0 then error("record " .. id .. ": no candidates ('responses' or {solution, is_correct} fields)", 0) end
  return texts, labels, names
end

function M.expand(r, ctx)
  local id = C.str(r.id) or tostring(ctx.index)
  local prompt = C.str(r.prompt) or C.str(r.question)
  if not prompt then error("record " .. id .. ": no 'prompt' or 'question'", 0) end
  local texts, labels, names = candidates_of(r, id)
  return { {
    id = id, prompt = prompt, answer = C.str(r.answer) or C.str(r.ground_truth), responses = texts,
    bench = { bench = "bestofn", sample = id, labels = labels, names = #names > 0 and names or nil },
  } }
end

function M.evaluate(preds)
  local sums = { selected = 0, first = 0, random = 0, oracle = 0 }
  local no_selection = 0
  for _, p in ipairs(preds) do
    local labels = p.bench.labels
    local n = #labels
    local sel = C.has_status(p) and type(p.detail) == "table" and math.tointeger(p.detail.selected)
    if sel and sel >= 0 and sel < n then
      sums.selected = sums.selected + labels[sel + 1]
    else
      no_selection = no_selection + 1
    end
    local first, mean, best = C.reference_picks(labels, n)
    sums.first = sums.first + first
    sums.random = sums.random + mean
    sums.oracle = sums.oracle + best
  end
  local groups = #preds
  local function pct(x) return groups > 0 and 100 * x / groups or 0 end
  return {
    benchmark = "bestofn", groups = groups, no_selection = no_selection,
    selected = pct(sums.selected), first = pct(sums.first), random = pct(sums.random),
    oracle = pct(sums.oracle),
  }
end

function M.markdown(m)
  return "## Best-of-N (" .. m.groups .. " groups, " .. m.no_selection .. " without a valid selection)\n\n"
    .. C.md_table({ "selected", "first (pass@1)", "random pick (expected)", "oracle" },
      { { C.fmt(m.selected), C.fmt(m.first), C.fmt(m.random), C.fmt(m.oracle) } })
end

return M
