-- srm.report.stats: bounded-memory statistics for `srm report` and `srm diff` (trusted host code;
-- skills never see srm.report.*). Every structure here has a fixed size, whatever the number of
-- values fed to it.
--
--   hist(nbins, lo, hi)          fixed-width bins over [lo, hi] plus below/above counts
--   edges(list)                  bins between ascending edges: (-inf, e1), [e1, e2), ..., [en, inf)
--   moments()                    n, sum, mean, min, max
--   reservoir(cap, seed)         a uniform sample of at most cap items (algorithm L)
--   topn(n)                      the n items with the largest keys (ties: the earliest kept)
--   ranks(values)                average ranks (ties share the mean of their positions)
--   spearman(xs, ys)             rank correlation, nil when undefined
--   binned_means(xs, ys, k)      trend: mean x and y of k equal-count groups by x
--   quantile(sorted, q)          linear interpolation between closest ranks
local common = require "srm.bench.common"

local S = {}

local floor = math.floor

---------------------------------------------------------------------------------------------
-- Histograms
---------------------------------------------------------------------------------------------

local Hist = {}
Hist.__index = Hist

-- hist(nbins, lo, hi): bin i (1-based) holds [lo + (i-1)w, lo + i*w); the last bin includes hi.
-- Values below lo / above hi are counted apart; NaN and non-numbers are ignored.
function S.hist(nbins, lo, hi)
  local bins = {}
  for i = 1, nbins do bins[i] = 0 end
  lo, hi = lo or 0, hi or 1
  return setmetatable({ nbins = nbins, lo = lo, hi = hi, bins = bins, below = 0,
    above = 0, n = 0, scale = nbins / (hi - lo) }, Hist)
end

-- The 1-based bin of x, 0 below lo, nbins + 1 above hi, nil for NaN.
function Hist:bin(x)
  if x ~= x then return nil end
  if x < self.lo then return 0 end
  if x > self.hi then return self.nbins + 1 end
  -- 1e-9 of a bin absorbs rounding at the edges: -0.9 - (-1) is 0.09999999999999998
  local b = floor((x - self.lo) * self.scale + 1e-9) + 1
  if b > self.nbins then b = self.nbins end
  return b
end

function Hist:add(x)
  if type(x) ~= "number" or x ~= x then return end
  self.n = self.n + 1
  local lo = self.lo
  if x < lo then
    self.below = self.below + 1
  elseif x > self.hi then
    self.above = self.above + 1
  else
    local nbins = self.nbins
    local b = floor((x - lo) * self.scale + 1e-9) + 1 -- as Hist:bin
    if b > nbins then b = nbins end
    local bins = self.bins
    bins[b] = bins[b] + 1
  end
end

-- Lower and upper edge of bin i.
function Hist:range(i)
  local w = (self.hi - self.lo) / self.nbins
  return self.lo + (i - 1) * w, self.lo + i * w
end

local Edges = {}
Edges.__index = Edges

-- edges({e1, ..., en}) -> n + 1 bins: bin 1 is (-inf, e1), bin k is [e(k-1), ek), the last
-- [en, inf).
function S.edges(list)
  local bins = {}
  for i = 1, #list + 1 do bins[i] = 0 end
  return setmetatable({ edges = list, bins = bins, n = 0 }, Edges)
end

function Edges:bin(x)
  local e = self.edges
  local lo, hi = 1, #e + 1 -- binary search: first edge greater than x
  while lo < hi do
    local mid = (lo + hi) // 2
    if x < e[mid] then hi = mid else lo = mid + 1 end
  end
  return lo
end

function Edges:add(x)
  if type(x) ~= "number" or x ~= x then return end
  local b = self:bin(x)
  self.bins[b] = self.bins[b] + 1
  self.n = self.n + 1
end

---------------------------------------------------------------------------------------------
-- Moments
---------------------------------------------------------------------------------------------

local Moments = {}
Moments.__index = Moments

function S.moments()
  return setmetatable({ n = 0, sum = 0, min = nil, max = nil }, Moments)
end

function Moments:add(x)
  if type(x) ~= "number" or x ~= x then return end
  self.n = self.n + 1
  self.sum = self.sum + x
  if self.min == nil or x < self.min then self.min = x end
  if self.max == nil or x > self.max then self.max = x end
end

function Moments:mean()
  if self.n == 0 then return nil end
  return self.sum / self.n
end

---------------------------------------------------------------------------------------------
-- Sampling and selection
---------------------------------------------------------------------------------------------

local Reservoir = {}
Reservoir.__index = Reservoir

-- reservoir(cap, seed): after k adds, items holds min(k, cap) of them, each of the k equally
-- likely to be there. Li's algorithm L: once full, it draws how many items to skip before the next
-- replacement, so a long stream costs O(cap * log(k / cap)) random numbers, not one per item. The
-- stream is splitmix64 from seed: the same input gives the same sample on every machine.
function S.reservoir(cap, seed)
  return setmetatable({ cap = cap, seen = 0, items = {}, rng = common.raw_rng(seed or 1),
    w = 1, next = 0 }, Reservoir)
end

-- A uniform float in (0, 1).
local function unit(rng)
  return ((rng:next() >> 11) + 0.5) / 9007199254740992.0
end

function Reservoir:skip()
  self.w = self.w * math.exp(math.log(unit(self.rng)) / self.cap)
  self.next = self.seen + math.floor(math.log(unit(self.rng)) / math.log(1 - self.w)) + 1
end

-- slot() -> the index the next stream item goes to, or nil when the sample skips it; the caller
-- stores the item there (so skipped items are never built).
function Reservoir:slot()
  local seen = self.seen + 1
  self.seen = seen
  local cap = self.cap
  if seen <= cap then
    if seen == cap then self:skip() end
    return seen
  elseif seen == self.next then
    self:skip()
    return self.rng:below(cap) + 1
  end
  return nil
end

function Reservoir:add(item)
  local i = self:slot()
  if i then self.items[i] = item end
end

local TopN = {}
TopN.__index = TopN

-- topn(n): keeps the n items with the largest key; among equal keys the one added first wins.
-- A binary min-heap on (key, -order), so each add is O(log n).
function S.topn(n)
  return setmetatable({ cap = n, heap = {}, order = 0 }, TopN)
end

-- Whether entry a ranks below entry b (smaller key, or equal key and added later).
local function lower(a, b)
  if a.key ~= b.key then return a.key < b.key end
  return a.order > b.order
end

-- Whether an item with this key would enter (callers skip building items that would not).
function TopN:would_take(key)
  local h = self.heap
  if #h < self.cap then return true end
  return key > h[1].key
end

function TopN:add(key, item)
  if self.cap <= 0 or type(key) ~= "number" or key ~= key then return end
  self.order = self.order + 1
  local e = { key = key, order = self.order, item = item }
  local h = self.heap
  if #h < self.cap then
    h[#h + 1] = e
    local i = #h
    while i > 1 do
      local p = i // 2
      if lower(h[i], h[p]) then h[i], h[p] = h[p], h[i]; i = p else break end
    end
    return
  end
  if not lower(h[1], e) then return end
  h[1] = e
  local i, n = 1, #h
  while true do
    local l, r, m = 2 * i, 2 * i + 1, i
    if l <= n and lower(h[l], h[m]) then m = l end
    if r <= n and lower(h[r], h[m]) then m = r end
    if m == i then break end
    h[i], h[m] = h[m], h[i]
    i = m
  end
end

-- The kept items, largest key first (equal keys: added first comes first).
function TopN:sorted()
  local list = {}
  for i, e in ipairs(self.heap) do list[i] = e end
  table.sort(list, function(a, b) return lower(b, a) end)
  local items = {}
  for i, e in ipairs(list) do items[i] = e.item end
  return items
end

---------------------------------------------------------------------------------------------
-- Rank statistics
---------------------------------------------------------------------------------------------

-- ranks(values) -> array of 1-based ranks; tied values get the mean of the positions they span.
function S.ranks(values)
  local n = #values
  local idx = {}
  for i = 1, n do idx[i] = i end
  table.sort(idx, function(a, b)
    local va, vb = values[a], values[b]
    if va ~= vb then return va < vb end
    return a < b
  end)
  local ranks = {}
  local i = 1
  while i <= n do
    local j = i
    while j < n and values[idx[j + 1]] == values[idx[i]] do j = j + 1 end
    local r = (i + j) / 2
    for k = i, j do ranks[idx[k]] = r end
    i = j + 1
  end
  return ranks
end

-- Pearson correlation of two equally long arrays; nil when fewer than 3 pairs or a constant.
function S.pearson(xs, ys)
  local n = #xs
  if n < 3 or #ys ~= n then return nil end
  local mx, my = 0, 0
  for i = 1, n do mx = mx + xs[i]; my = my + ys[i] end
  mx, my = mx / n, my / n
  local sxy, sxx, syy = 0, 0, 0
  for i = 1, n do
    local dx, dy = xs[i] - mx, ys[i] - my
    sxy = sxy + dx * dy
    sxx = sxx + dx * dx
    syy = syy + dy * dy
  end
  if sxx == 0 or syy == 0 then return nil end
  return sxy / math.sqrt(sxx * syy)
end

-- Spearman's rho: Pearson on average ranks (the tie-correct definition, as scipy computes it).
function S.spearman(xs, ys)
  if #xs < 3 or #ys ~= #xs then return nil end
  return S.pearson(S.ranks(xs), S.ranks(ys))
end

-- binned_means(xs, ys, k) -> {{mean x, mean y}, ...}: the pairs sorted by x and cut into k groups
-- of (nearly) equal size; a trend line for scatter plots whose y takes few values.
function S.binned_means(xs, ys, k)
  local n = #xs
  if n == 0 then return {} end
  local idx = {}
  for i = 1, n do idx[i] = i end
  table.sort(idx, function(a, b)
    if xs[a] ~= xs[b] then return xs[a] < xs[b] end
    return a < b
  end)
  k = math.min(k, n)
  local out = {}
  for g = 1, k do
    local from, to = (g - 1) * n // k + 1, g * n // k
    local sx, sy = 0, 0
    for j = from, to do sx = sx + xs[idx[j]]; sy = sy + ys[idx[j]] end
    local m = to - from + 1
    out[g] = { sx / m, sy / m }
  end
  return out
end

-- quantile(sorted, q) for 0 <= q <= 1: numpy's default (linear between closest ranks).
function S.quantile(sorted, q)
  local n = #sorted
  if n == 0 then return nil end
  local pos = q * (n - 1) + 1
  local lo = math.floor(pos)
  if lo >= n then return sorted[n] end
  return sorted[lo] + (pos - lo) * (sorted[lo + 1] - sorted[lo])
end

return S
