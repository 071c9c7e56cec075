-- srm.bench.rmbench: RM-Bench (THU-KEG/RM-Bench, ICLR 2025) loader and official metric.
--
-- A sample has chosen[3] and rejected[3] in three styles: 1 concise, 2 detailed plain text,
-- 3 detailed Markdown. Loader modes:
--   rmbench           9 pairwise tasks "<domain>:<id>:c<i>r<j>" (chosen style i vs rejected style
--                     j); which side shows the chosen response is a seeded coin per comparison
--   rmbench:both      18 tasks: each comparison in both orders (":ab" chosen first, ":ba" second)
--   rmbench:pointwise 6 tasks "<domain>:<id>:chosen<i>" / ":rejected<j>", each response rated
--                     alone (the official reward-model protocol); a comparison is won when the
--                     chosen rating is strictly greater
--
-- Metric (scripts/utils.py compute_accuracy of the official repository): acc[i][j] = mean over
-- samples of the win of chosen style i over rejected style j (a game without a valid verdict, a
-- tie or a failed rating is a loss; with both orders a cell is the mean of its two games).
-- hard = mean of the cells i < j (chosen less styled than rejected), normal = mean of the
-- diagonal, easy = mean of the cells i > j; total = mean of all 9 cells (wins / comparisons).
-- Reported per domain (chat, code, math, safety: safety-refuse and safety-response together)
-- and over all samples; `avg` is the mean of the domain totals (the leaderboard's average).
local C = require "srm.bench.common"
local json = require "srm.json"

local M = { name = "rmbench", options = { both = true, pointwise = true } }

local DOMAINS = { "chat", "code", "math", "safety" }
M.DOMAINS = DOMAINS

-- The domain of a record: its `domain` field, else the file name (chat_filtered.json,
-- safety-refuse_filtered.json, ...), else its subset.
local SUBSET_DOMAIN = {
  alpacaeval = "chat", ["bigcode/humanevalpack"] = "code", ["math-prm"] = "math",
  ["xstest-should-refuse"] = "safety", ["xstest-should-respond"] = "safety",
  ["refusals-dangerous"] = "safety", ["refusals-offensive"] = "safety", donotanswer = "safety",
}

local function domain_of(r, path)
  if type(r.domain) == "string" then return r.domain end
  local base = type(path) == "string" and path:match("([^/]*)$") or ""
  for _, d in ipairs(DOMAINS) do
    if base:sub(1, #d) == d then return d end
  end
  return SUBSET_DOMAIN[r.subset] or "unknown"
end

local function strings3(v)
  if type(v) ~= "table" or #v ~= 3 then return false end
  for i = 1, 3 do if type(v[i]) ~= "string" then return false end end
  return true
end

function M.expand(r, ctx)
  local sid = C.str(r.id)
  if not sid then error("record has no 'id'", 0) end
  if type(r.prompt) ~= "string" then error("sample " .. sid .. ": 'prompt' must be a string", 0) end
  if not strings3(r.chosen) or not strings3(r.rejected) then
    error("sample " .. sid .. ": 'chosen' and 'rejected' must be arrays of 3 strings", 0)
  end
  local domain = domain_of(r, ctx.path)
  local sample = domain .. ":" .. sid
  local opts = ctx.options
  local tasks = {}
  local function base(extra)
    local b = { bench = "rmbench", sample = sample, domain = domain, subset = r.subset }
    for k, v in pairs(extra) do b[k] = v end
    return b
  end
  if opts.pointwise then
    for _, role in ipairs({ "chosen", "rejected" }) do
      for s = 1, 3 do
        tasks[#tasks + 1] = { id = sample .. ":" .. role .. s, prompt = r.prompt, response = r[role][s],
          bench = base({ mode = "pointwise", role = role, style = s }) }
      end
    end
    return tasks
  end
  local rng = C.rng(ctx.seed, "rmbench:" .. sample)
  for i = 1, 3 do
    for j = 1, 3 do
      local cid = sample .. ":c" .. i .. "r" .. j
      local orders
      if opts.both then orders = { { "A", ":ab" }, { "B", ":ba" } }
      else orders = { { rng:below(2) == 0 and "A" or "B", "" } } end
      for _, o in ipairs(orders) do
        local pos = o[1]
        local a, b = r.chosen[i], r.rejected[j]
        if pos == "B" then a, b = b, a end
        tasks[#tasks + 1] = { id = cid .. o[2], prompt = r.prompt, response_A = a, response_B = b,
          bench = base({ mode = "pairwise", chosen_style = i, rejected_style = j, label = pos,
            games = #orders }) }
      end
    end
  end
  return tasks
end

-- The 3x3 cells of one sample: cells[i][j] = list of game results (1 win, 0 loss).
local function new_sample(domain)
  local cells = {}
  for i = 1, 3 do cells[i] = { {}, {}, {} } end
  return { domain = domain, cells = cells, ratings = { chosen = {}, rejected = {} } }
end

-- Accuracy summary of a list of samples (each with a 3x3 matrix of cell values).
local function summarize(samples)
  local n = #samples
  if n == 0 then return { samples = 0 } end
  local acc = {}
  for i = 1, 3 do
    acc[i] = {}
    for j = 1, 3 do
      local s = 0
      for _, smp in ipairs(samples) do s = s + smp.value[i][j] end
      acc[i][j] = s / n
    end
  end
  local hard = (acc[1][2] + acc[1][3] + acc[2][3]) / 3
  local normal = (acc[1][1] + acc[2][2] + acc[3][3]) / 3
  local easy = (acc[2][1] + acc[3][1] + acc[3][2]) / 3
  local total = 0
  for i = 1, 3 do for j = 1, 3 do total = total + acc[i][j] end end
  local matrix = json.array {}
  for i = 1, 3 do matrix[i] = json.array { acc[i][1], acc[i][2], acc[i][3] } end
  return { samples = n, easy = easy, normal = normal, hard = hard, total = total / 9, matrix = matrix }
end

function M.evaluate(preds)
  local samples, order = {}, {}
  local games, no_verdict = 0, 0
  for _, p in ipairs(preds) do
    local b = p.bench
    local s = samples[b.sample]
    if not s then
      s = new_sample(b.domain or "unknown")
      samples[b.sample] = s
      order[#order + 1] = b.sample
    end
    games = games + 1
    if b.mode == "pointwise" then
      local r = C.rating(p)
      if r == nil then no_verdict = no_verdict + 1 end
      s.pointwise = true
      s.ratings[b.role][b.style] = r
    else
      local v = C.pair_verdict(p)
      if v == nil then no_verdict = no_verdict + 1 end
      local cell = s.cells[b.chosen_style][b.rejected_style]
      cell[#cell + 1] = v == b.label and 1 or 0
    end
  end
  local by_domain, all = {}, {}
  for _, id in ipairs(order) do
    local s = samples[id]
    s.value = {}
    for i = 1, 3 do
      s.value[i] = {}
      for j = 1, 3 do
        local v
        if s.pointwise then
          local c, r = s.ratings.chosen[i], s.ratings.rejected[j]
          v = (c ~= nil and r ~= nil and c > r) and 1 or 0
        else
          v = C.mean(s.cells[i][j]) or 0
        end
        s.value[i][j] = v
      end
    end
    by_domain[s.domain] = by_domain[s.domain] or {}
    table.insert(by_domain[s.domain], s)
    all[#all + 1] = s
  end
  local out = summarize(all)
  out.benchmark, out.games, out.no_verdict = "rmbench", games, no_verdict
  out.domains = {}
  local totals = {}
  for _, d in ipairs(C.sorted_keys(by_domain)) do
    out.domains[d] = summarize(by_domain[d])
    totals[#totals + 1] = out.domains[d].total
  end
  out.avg = C.mean(totals) or C.null
  return out
end

function M.markdown(m)
  local rows = {}
  local function row(name, s)
    rows[#rows + 1] = { name, tostring(s.samples), C.fmt(s.total, 100), C.fmt(s.easy, 100),
      C.fmt(s.normal, 100), C.fmt(s.hard, 100) }
  end
  for _, d in ipairs(C.sorted_keys(m.domains)) do row(d, m.domains[d]) end
  row("all samples", m)
  return "# RM-Bench\n\n" .. C.md_table({ "domain", "samples", "total", "easy", "normal", "hard" }, rows)
    .. string.format("\nAverage of the domain totals: %s. %d games, %d without a valid verdict. "
      .. "Accuracies in percent; easy = chosen more styled than rejected, hard = less styled.\n",
      C.fmt(m.avg, 100), m.games, m.no_verdict)
end

return M
