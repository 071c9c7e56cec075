-- srm.report.rows: one streaming pass over a run's rows (docs/cli.md), optionally joined with the
-- run's input records for response lengths, into the aggregates `srm report` draws. Memory is
-- bounded whatever the file size: fixed-bin histograms, capped tables (components, skills,
-- generations, reasons) and fixed-size samples (srm.report.stats). Trusted host code.
--
--   R.new(opts)                 -> aggregator; opts: {top, scatter, corr, seed}
--   agg:add(row, line, extra)   one decoded row (line: its JSONL text, for the surprising table;
--                               extra: {length = n, tokens = n} from the input record, or nil)
--   agg:add_bad(lineno, why)    a line that is not a JSON object
--   agg:result()                -> the summary table html.lua renders (plain data)
--   R.data_joiner(path, opts)   -> joiner; joiner:lookup(id) -> {length=, tokens=} | nil
--   R.scan(path, opts)          -> result (reads the file, with opts.data / opts.tokenizer)
local json = require "srm.json"
local options = require "srm.options"
local S = require "srm.report.stats"

local R = {}

R.SCORE_BINS = 20
R.TREND_BINS = 10 -- points of the mean-score trend line on the length plots
R.LATENCY_EDGES = { 1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000 } -- ms
R.CALL_EDGES = { 1, 2, 3, 4, 5, 6, 8, 10, 20 } -- llm_calls per row
R.LIMITS = {
  components = 32,  -- distinct component names tracked (more are counted as "other")
  matrix = 12,      -- components in the disagreement matrix
  generations = 12, -- distinct skill generations split out
  skills = 24,      -- distinct (name, sha256, generation) stamps listed
  reasons = 50,     -- distinct reasons counted per status
  reason_chars = 240,
  examples = 3,     -- example reasons shown per status
  row_chars = 65536, -- a surprising row longer than this is shown cut
  verdicts = 16,
  pending = 100000, -- input records held while looking for a row's id out of order
  gen_sample = 4000, -- length/score pairs per generation for its correlation
}
R.STATUSES = { "ok", "abstain", "judge_failed", "timeout", "skill_error", "input_error",
  "budget_exceeded", "sandbox_error" }

-- A finite number, else nil (v - v is 0 only for finite numbers).
local function num(v)
  if type(v) == "number" and v - v == 0 then return v end
  return nil
end

local function str(v)
  if type(v) == "string" then return v end
  if type(v) == "number" then return tostring(v) end
  return nil
end
R.num, R.str = num, str -- also for srm.report.diff

local function clip(s, n)
  if #s <= n then return s end
  -- cut on a UTF-8 boundary: drop continuation bytes at the cut
  local cut = n
  while cut > 0 and (s:byte(cut + 1) or 0) & 0xC0 == 0x80 do cut = cut - 1 end
  return s:sub(1, cut) .. "…"
end
R.clip = clip

-- Counts keys in a table up to a cap; later new keys go to `other`.
local function bump(map, key, cap)
  local c = map.counts[key]
  if c then
    map.counts[key] = c + 1
  elseif map.size < cap then
    map.size = map.size + 1
    map.counts[key] = 1
    map.order[map.size] = key
  else
    map.other = map.other + 1
  end
end

local function capped()
  return { counts = {}, order = {}, size = 0, other = 0 }
end

-- capped -> array of {key, count} by count (desc), then first seen.
local function ranked(map)
  local list = {}
  for i, k in ipairs(map.order) do list[i] = { key = k, count = map.counts[k], pos = i } end
  table.sort(list, function(a, b)
    if a.count ~= b.count then return a.count > b.count end
    return a.pos < b.pos
  end)
  for _, e in ipairs(list) do e.pos = nil end
  return list, map.other
end
R.ranked = ranked

local USAGE_KEYS = { "llm_calls", "prompt_tokens", "completion_tokens", "cache_hits", "retries" }

local function status_counts()
  local t = {}
  for _, s in ipairs(R.STATUSES) do t[s] = 0 end
  return t
end

---------------------------------------------------------------------------------------------
-- The aggregator
---------------------------------------------------------------------------------------------

local Agg = {}
Agg.__index = Agg

-- A reservoir whose items are (x, y) pairs kept in two flat arrays r.xs, r.ys: a large sample
-- of small tables would cost the garbage collector a traversal each per cycle.
local function pair_sample(cap, seed)
  local r = S.reservoir(cap, seed)
  r.xs, r.ys = {}, {}
  return r
end

local NEW_OPTS = { top = "integer?", scatter = "integer?", corr = "integer?", seed = "integer?" }

function R.new(opts)
  opts = opts or {}
  options.check("report.rows.new", opts, NEW_OPTS, 2)
  local seed = opts.seed or 1
  local self = setmetatable({
    top = opts.top or 20, seed = seed,
    n = 0, bad = 0, bad_lines = {},
    status = capped(), reasons = {},                    -- reasons[status] = capped
    score = S.hist(R.SCORE_BINS, 0, 1), score_m = S.moments(),
    verdicts = capped(),
    skills = capped(), skill_info = {}, stamp_keys = {}, nstamp_keys = 0,
    gens = {}, gen_order = {}, gen_other = 0,
    comps = {}, comp_order = {}, comp_other = 0,
    pairs = {},                                          -- pairs[i][j] for comp positions i < j
    spos = {}, sval = {},                                -- scratch: this row's scored components
    latency = S.edges(R.LATENCY_EDGES), latency_m = S.moments(),
    latency_sample = S.reservoir(opts.corr or 20000, seed + 1),
    calls = S.edges(R.CALL_EDGES),
    usage = { llm_calls = 0, prompt_tokens = 0, completion_tokens = 0, cache_hits = 0,
      retries = 0 },
    usage_rows = 0,
    scatter = S.reservoir(opts.scatter or 2000, seed + 2), -- {x=length, y=score, g=gen}
    corr = pair_sample(opts.corr or 20000, seed + 3),      -- length, score
    tok_scatter = S.reservoir(opts.scatter or 2000, seed + 4),
    tok_corr = pair_sample(opts.corr or 20000, seed + 5),
    joined = 0, length_m = S.moments(), tokens_m = S.moments(),
    surprising = S.topn(opts.top or 20),
  }, Agg)
  return self
end

-- Per-generation aggregates, created on first sight (up to the cap).
function Agg:gen(key)
  local g = self.gens[key]
  if g then return g end
  if #self.gen_order >= R.LIMITS.generations then return nil end
  g = { key = key, n = 0, status = status_counts(), score = S.hist(R.SCORE_BINS, 0, 1),
    score_m = S.moments(), comps = {}, names = {},
    corr = pair_sample(R.LIMITS.gen_sample, self.seed + 10 + #self.gen_order) }
  self.gens[key] = g
  self.gen_order[#self.gen_order + 1] = key
  return g
end

-- Per-component aggregates, created on first sight (up to the cap); nil beyond it.
function Agg:comp(name)
  local c = self.comps[name]
  if c then return c end
  if #self.comp_order >= R.LIMITS.components then return nil end
  c = { name = name, pos = #self.comp_order + 1, n = 0, status = status_counts(),
    other_status = 0, score = S.hist(R.SCORE_BINS, 0, 1), score_m = S.moments(),
    reasons = capped(), swap_n = 0, swap_bad = 0 }
  self.comps[name] = c
  self.comp_order[c.pos] = name
  return c
end

local function add_reason(map, status, reason)
  local m = map[status]
  if not m then
    m = capped()
    map[status] = m
  end
  bump(m, clip(reason, R.LIMITS.reason_chars), R.LIMITS.reasons)
end

function Agg:add_bad(lineno, why)
  self.bad = self.bad + 1
  if #self.bad_lines < 5 then self.bad_lines[#self.bad_lines + 1] = { line = lineno, why = why } end
end

function Agg:add(row, line, extra)
  if type(row) ~= "table" then return self:add_bad(nil, "not an object") end
  self.n = self.n + 1
  local status = str(row.status) or "?"
  bump(self.status, status, 32)
  local score = num(row.score)
  local ok = status == "ok"
  if ok and score then
    self.score:add(score)
    self.score_m:add(score)
  end
  if status ~= "ok" then
    local reason = str(row.reason)
    if reason then add_reason(self.reasons, status, reason) end
  end
  local verdict = str(row.verdict)
  if verdict then bump(self.verdicts, clip(verdict, 40), R.LIMITS.verdicts) end

  -- skill stamp and generation
  local gen_key = "?"
  local skill = row.skill
  if type(skill) == "table" then
    local name = str(skill.name) or "?"
    local sha = str(skill.sha256) or "?"
    local gen = num(skill.generation)
    -- the stamp key, cached: building "name\0sha\0gen" for every row would cost a string each
    local room = self.nstamp_keys < 1000 -- bounded: hostile files with ever new stamps
    local by_name = self.stamp_keys[name]
    if not by_name then by_name = {}; if room then self.stamp_keys[name] = by_name end end
    local by_sha = by_name[sha]
    if not by_sha then by_sha = {}; if room then by_name[sha] = by_sha end end
    local gk = gen or "?"
    local cached = by_sha[gk]
    if cached then
      gen_key = cached[2]
      bump(self.skills, cached[1], R.LIMITS.skills)
    else
      if gen == nil then
        gen_key = "?"
      elseif gen == math.floor(gen) and math.abs(gen) < 2 ^ 53 then
        gen_key = string.format("%d", gen)
      else
        gen_key = tostring(gen)
      end
      local key = name .. "\0" .. sha .. "\0" .. gen_key
      if room then
        self.nstamp_keys = self.nstamp_keys + 1
        by_sha[gk] = { key, gen_key }
      end
      if not self.skill_info[key] and self.skills.size < R.LIMITS.skills then
        self.skill_info[key] = { name = clip(name, 80), sha256 = clip(sha, 64), generation = gen }
      end
      bump(self.skills, key, R.LIMITS.skills)
    end
  end
  local g = self:gen(gen_key)
  if g then
    g.n = g.n + 1
    if g.status[status] then g.status[status] = g.status[status] + 1 end
    if ok and score then g.score:add(score); g.score_m:add(score) end
  else
    self.gen_other = self.gen_other + 1
  end

  -- usage and latency
  local usage = row.usage
  if type(usage) == "table" then
    self.usage_rows = self.usage_rows + 1
    local u = self.usage
    for _, k in ipairs(USAGE_KEYS) do
      local v = usage[k]
      if type(v) == "number" and v - v == 0 then u[k] = u[k] + v end
    end
    self.calls:add(num(usage.llm_calls) or 0)
  end
  local lat = num(row.latency_ms)
  if lat then
    self.latency:add(lat)
    self.latency_m:add(lat)
    self.latency_sample:add(lat)
  end

  -- components (the hot loop of a large report: no method calls, no per-row tables)
  local comps = row.components
  local nscored, lo, hi = 0, nil, nil
  local spos, sval = self.spos, self.sval
  if type(comps) == "table" then
    local gcomps = g and g.comps
    for name, c in pairs(comps) do
      if type(name) == "string" and type(c) == "table" then
        local cs = self.comps[name] or self:comp(name)
        if not cs then
          self.comp_other = self.comp_other + 1
        else
          cs.n = cs.n + 1
          local st = c.status
          if type(st) ~= "string" then st = "?" end
          local counts = cs.status
          local sc = counts[st]
          if sc then counts[st] = sc + 1 else cs.other_status = cs.other_status + 1 end
          local gc
          if gcomps then
            gc = gcomps[name]
            if not gc then
              gc = { m = S.moments(), n = 0, abstain = 0 }
              gcomps[name] = gc
            end
            gc.n = gc.n + 1
          end
          local sv = c.score
          if st == "ok" and type(sv) == "number" and sv - sv == 0 then
            cs.score:add(sv)
            local m = cs.score_m
            m.n = m.n + 1
            m.sum = m.sum + sv
            if m.min == nil or sv < m.min then m.min = sv end
            if m.max == nil or sv > m.max then m.max = sv end
            nscored = nscored + 1
            spos[nscored], sval[nscored] = cs.pos, sv
            if lo == nil or sv < lo then lo = sv end
            if hi == nil or sv > hi then hi = sv end
            if gc then gc.m:add(sv) end
          elseif st ~= "ok" then
            if st == "abstain" and gc then gc.abstain = gc.abstain + 1 end
            local reason = c.reason
            if type(reason) == "string" then
              bump(cs.reasons, st .. "\0" .. clip(reason, R.LIMITS.reason_chars), R.LIMITS.reasons)
            end
          end
          -- pairwise swap: detail.orders = {first-order verdict, flipped-back second verdict}
          local d = c.detail
          if type(d) == "table" then
            local orders = d.orders
            if type(orders) == "table" then
              local o1, o2 = str(orders[1]), str(orders[2])
              if o1 and o2 then
                cs.swap_n = cs.swap_n + 1
                if o1 ~= o2 then cs.swap_bad = cs.swap_bad + 1 end
              end
            end
          end
        end
      end
    end
  end

  -- disagreement between components scored ok on this row
  if nscored >= 2 then
    local limit = R.LIMITS.matrix
    local pairs_ = self.pairs
    for a = 1, nscored do
      local pa, sa = spos[a], sval[a]
      if pa <= limit then
        for b = 1, nscored do
          local pb, sb = spos[b], sval[b]
          if pa < pb and pb <= limit then
            local row_p = pairs_[pa]
            if not row_p then row_p = {}; pairs_[pa] = row_p end
            local p = row_p[pb]
            if not p then p = { n = 0, disagree = 0, absdiff = 0 }; row_p[pb] = p end
            p.n = p.n + 1
            if (sa >= 0.5) ~= (sb >= 0.5) then p.disagree = p.disagree + 1 end
            p.absdiff = p.absdiff + math.abs(sa - sb)
          end
        end
      end
    end
    local spread = hi - lo
    if spread > 0 and self.surprising:would_take(spread) then
      self.surprising:add(spread, { id = str(row.id) or "?", spread = spread, score = score,
        status = status, line = line and clip(line, R.LIMITS.row_chars) or nil,
        cut = line ~= nil and #line > R.LIMITS.row_chars })
    end
  end

  -- response length and tokens (from the input record)
  if extra and ok and score then
    local len = extra.length
    if len then
      self.joined = self.joined + 1
      self.length_m:add(len)
      local i = self.scatter:slot()
      if i then self.scatter.items[i] = { len, score, gen_key } end
      local c = self.corr
      i = c:slot()
      if i then c.xs[i], c.ys[i] = len, score end
      if g then
        c = g.corr
        i = c:slot()
        if i then c.xs[i], c.ys[i] = len, score end
      end
    end
    local toks = extra.tokens
    if toks then
      self.tokens_m:add(toks)
      local i = self.tok_scatter:slot()
      if i then self.tok_scatter.items[i] = { toks, score, gen_key } end
      local c = self.tok_corr
      i = c:slot()
      if i then c.xs[i], c.ys[i] = toks, score end
    end
  end
end

-- Spearman's rho over a pair sample (pair_sample: two flat arrays, no table per pair).
local function sample_rho(res)
  return S.spearman(res.xs, res.ys), #res.xs
end
R.sample_rho = sample_rho

local function hist_data(h)
  return { bins = h.bins, below = h.below, above = h.above, n = h.n, lo = h.lo, hi = h.hi }
end

local function status_list(counts, other)
  local list = {}
  for _, s in ipairs(R.STATUSES) do
    if counts[s] and counts[s] > 0 then list[#list + 1] = { key = s, count = counts[s] } end
  end
  if other and other > 0 then list[#list + 1] = { key = "other", count = other } end
  return list
end

-- The summary: plain tables and numbers, everything sorted for a reproducible page.
function Agg:result()
  local res = { n = self.n, bad = self.bad, bad_lines = self.bad_lines }
  res.status = (ranked(self.status))
  res.reasons = {}
  for _, e in ipairs(res.status) do
    local m = self.reasons[e.key]
    if m then
      local list, other = ranked(m)
      res.reasons[e.key] = { list = list, other = other }
    end
  end
  res.score = hist_data(self.score)
  res.score_mean = self.score_m:mean()
  res.score_min, res.score_max = self.score_m.min, self.score_m.max
  res.verdicts, res.verdicts_other = ranked(self.verdicts)

  res.skills = {}
  for _, e in ipairs((ranked(self.skills))) do
    local info = self.skill_info[e.key]
    if info then
      res.skills[#res.skills + 1] = { name = info.name, sha256 = info.sha256,
        generation = info.generation, count = e.count }
    end
  end
  table.sort(res.skills, function(a, b)
    if a.name ~= b.name then return a.name < b.name end
    if (a.generation or -1) ~= (b.generation or -1) then return (a.generation or -1) < (b.generation or -1) end
    return a.sha256 < b.sha256
  end)
  res.skills_other = self.skills.other

  -- components, by name
  local names = {}
  for _, name in ipairs(self.comp_order) do names[#names + 1] = name end
  table.sort(names)
  res.components = {}
  for _, name in ipairs(names) do
    local c = self.comps[name]
    local reasons, rother = ranked(c.reasons)
    local by_status = {}
    for _, e in ipairs(reasons) do
      local st, reason = e.key:match("^(.-)%z(.*)$")
      local l = by_status[st]
      if not l then l = {}; by_status[st] = l end
      if #l < R.LIMITS.examples then l[#l + 1] = { reason = reason, count = e.count } end
    end
    res.components[#res.components + 1] = {
      name = name, pos = c.pos, n = c.n, status = status_list(c.status, c.other_status),
      abstain = c.status.abstain, failed = c.n - c.status.ok - c.status.abstain,
      score = hist_data(c.score), mean = c.score_m:mean(), scored = c.score_m.n,
      reasons = by_status, reasons_other = rother, swap_n = c.swap_n, swap_bad = c.swap_bad }
  end
  res.components_other = self.comp_other

  -- the disagreement matrix, over the first LIMITS.matrix components (by first sight), in
  -- name order
  local mat = {}
  for _, c in ipairs(res.components) do
    if c.pos <= R.LIMITS.matrix then mat[#mat + 1] = c end
  end
  res.matrix = { names = {}, cells = {} }
  for i, a in ipairs(mat) do
    res.matrix.names[i] = a.name
    res.matrix.cells[i] = {}
    for j, b in ipairs(mat) do
      local p1, p2 = math.min(a.pos, b.pos), math.max(a.pos, b.pos)
      local p = self.pairs[p1] and self.pairs[p1][p2]
      if i ~= j and p and p.n > 0 then
        res.matrix.cells[i][j] = { n = p.n, rate = p.disagree / p.n, mad = p.absdiff / p.n }
      end
    end
  end
  res.matrix_cut = #res.components > #mat

  -- generations
  res.generations = {}
  local keys = {}
  for _, k in ipairs(self.gen_order) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local na, nb = tonumber(a), tonumber(b)
    if na and nb then return na < nb end
    if na or nb then return na ~= nil end
    return a < b
  end)
  for _, k in ipairs(keys) do
    local g = self.gens[k]
    local comps = {}
    for _, name in ipairs(names) do
      local gc = g.comps[name]
      if gc then
        comps[#comps + 1] = { name = name, mean = gc.m:mean(), n = gc.n, abstain = gc.abstain }
      end
    end
    local rho, m = sample_rho(g.corr)
    res.generations[#res.generations + 1] = { key = k, n = g.n,
      status = status_list(g.status), score = hist_data(g.score), mean = g.score_m:mean(),
      components = comps, length_rho = rho, length_n = m,
      length_trend = S.binned_means(g.corr.xs, g.corr.ys, R.TREND_BINS) }
  end
  res.generations_other = self.gen_other

  -- usage, latency
  res.usage = self.usage
  res.usage_rows = self.usage_rows
  res.calls = { edges = R.CALL_EDGES, bins = self.calls.bins, n = self.calls.n }
  res.latency = { edges = R.LATENCY_EDGES, bins = self.latency.bins, n = self.latency.n,
    mean = self.latency_m:mean(), max = self.latency_m.max, sum = self.latency_m.sum }
  local lat = {}
  for i, v in ipairs(self.latency_sample.items) do lat[i] = v end
  table.sort(lat)
  res.latency.p50 = S.quantile(lat, 0.5)
  res.latency.p90 = S.quantile(lat, 0.9)
  res.latency.p99 = S.quantile(lat, 0.99)
  res.latency.sampled = #lat < self.latency_sample.seen

  -- length / tokens
  res.joined = self.joined
  res.length = { points = self.scatter.items, mean = self.length_m:mean(),
    min = self.length_m.min, max = self.length_m.max }
  res.length.rho, res.length.rho_n = sample_rho(self.corr)
  res.length.trend = S.binned_means(self.corr.xs, self.corr.ys, R.TREND_BINS)
  res.tokens = { points = self.tok_scatter.items, mean = self.tokens_m:mean(), n = self.tokens_m.n }
  res.tokens.rho, res.tokens.rho_n = sample_rho(self.tok_corr)
  res.tokens.trend = S.binned_means(self.tok_corr.xs, self.tok_corr.ys, R.TREND_BINS)

  res.surprising = self.surprising:sorted()
  return res
end

---------------------------------------------------------------------------------------------
-- Joining input records (for response lengths)
---------------------------------------------------------------------------------------------

local Joiner = {}
Joiner.__index = Joiner

-- The id srm gives a record: its `id`, else its `key`, else the 1-based line number.
local function record_id(rec, lineno)
  if type(rec) == "table" then
    local id = str(rec.id)
    if id == nil then id = str(rec.key) end
    if id ~= nil then return id end
  end
  return tostring(lineno)
end

local function text_len(s)
  return utf8.len(s) or #s
end

-- data_joiner(path, {field = "response", tokenizer = tok | nil}) -> joiner | nil, err
-- The rows of `srm run` come in input order, so the joiner walks the input in step with them;
-- records passed over while looking for an id are held (up to LIMITS.pending) in case their
-- rows come later (--retry-failed appends retried rows at the end).
function R.data_joiner(path, opts)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  opts = opts or {}
  return setmetatable({ f = f, lineno = 0, pending = {}, npending = 0, dropped = 0,
    field = opts.field or "response", tok = opts.tokenizer, mode = nil, no_field = 0,
    done = false }, Joiner)
end

-- {length, tokens} of a record, or nil when it has no response text. With the default field
-- missing but response_a/response_b present (pairwise), the length is len(A) - len(B).
function Joiner:measure(rec)
  if type(rec) ~= "table" then return nil end
  local text = rec[self.field]
  if type(text) == "string" and self.mode ~= "pair" then
    self.mode = "single"
    local m = { length = text_len(text) }
    if self.tok then m.tokens = self.tok:count(text) end
    return m
  end
  local a, b = rec.response_a, rec.response_b
  if self.field == "response" and type(a) == "string" and type(b) == "string" and self.mode ~= "single" then
    self.mode = "pair"
    local m = { length = text_len(a) - text_len(b) }
    if self.tok then
      local ta, tb = self.tok:count(a), self.tok:count(b)
      if ta and tb then m.tokens = ta - tb end
    end
    return m
  end
  return nil
end

-- lookup(id) -> {length=, tokens=} | nil
function Joiner:lookup(id)
  local held = self.pending[id]
  if held ~= nil then
    self.pending[id] = nil
    self.npending = self.npending - 1
    return held or nil
  end
  while not self.done do
    local line = self.f:read("l")
    if line == nil then
      self.done = true
      self.f:close()
      break
    end
    self.lineno = self.lineno + 1
    if line:find("%S") then
      local rec = json.decode(line)
      local rid = record_id(rec, self.lineno)
      local m = self:measure(rec)
      if m == nil then self.no_field = self.no_field + 1 end
      if rid == id then return m end
      if self.npending < R.LIMITS.pending then
        if self.pending[rid] == nil then self.npending = self.npending + 1 end
        self.pending[rid] = m or false
      else
        self.dropped = self.dropped + 1
      end
    end
  end
  return nil
end

function Joiner:close()
  if not self.done then
    self.done = true
    self.f:close()
  end
end

---------------------------------------------------------------------------------------------
-- Reading a rows file
---------------------------------------------------------------------------------------------

-- scan(path, {data = path, field = "response", tokenizer = tok, top, scatter, corr, seed})
-- -> result | nil, err. result.data = {path, field, mode, no_field} when data was given.
local SCAN_OPTS = { data = "string?", field = "string?", tokenizer = "any?", tokenizer_name = "string?",
  top = "integer?", scatter = "integer?", corr = "integer?", seed = "integer?" }

function R.scan(path, opts)
  opts = opts or {}
  options.check("report.rows.scan", opts, SCAN_OPTS, 2)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local agg = R.new({ top = opts.top, scatter = opts.scatter, corr = opts.corr, seed = opts.seed })
  local joiner
  if opts.data then
    joiner, err = R.data_joiner(opts.data, { field = opts.field, tokenizer = opts.tokenizer })
    if not joiner then f:close(); return nil, err end
  end
  local lineno = 0
  local decode = json.decode
  for line in f:lines() do
    lineno = lineno + 1
    if line:find("^%s*$") == nil then
      local row = decode(line)
      if type(row) ~= "table" then
        agg:add_bad(lineno, row == nil and "not JSON" or "not a JSON object")
      else
        local extra
        if joiner then extra = joiner:lookup(str(row.id) or "") end
        agg:add(row, line, extra)
      end
    end
  end
  f:close()
  local res = agg:result()
  if joiner then
    joiner:close()
    res.data = { path = opts.data, field = joiner.field, mode = joiner.mode,
      no_field = joiner.no_field, tokenizer = opts.tokenizer_name }
  end
  res.path = path
  return res
end

return R
