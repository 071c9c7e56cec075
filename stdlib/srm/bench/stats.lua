-- srm.bench.stats: the statistics the official benchmark scripts use, reimplemented so srm's
-- numbers match theirs to the last digit.
--
--   py_random(seed)        CPython's random.Random(seed) for an int seed: MT19937 seeded with
--                          init_by_array, getrandbits, randbelow and shuffle as CPython 3.x has them
--   elo(n, comparisons, rng)  IF-RewardBench's compute_elo_with_indices (K = 32 decaying after
--                          20% of 100 epochs, base 1200, the comparisons shuffled every epoch)
--   kendall_cdt(c, d, t)   IF-RewardBench's tau-b: (C - D) / max(1, sqrt((C + D)(C + D + T)))
--   f1_pos_neg(hyp, ref)   positive and negative F1 of 0/1 labels (IF-RewardBench constraint mode)
local S = {}

---------------------------------------------------------------------------------------------
-- CPython's Mersenne Twister (Modules/_randommodule.c)
---------------------------------------------------------------------------------------------

local N, M = 624, 397
local MASK32 = 0xFFFFFFFF

local Py = {}
Py.__index = Py

local function init_genrand(mt, s)
  mt[0] = s & MASK32
  for i = 1, N - 1 do
    local prev = mt[i - 1]
    mt[i] = (1812433253 * (prev ~ (prev >> 30)) + i) & MASK32
  end
end

-- random.seed(n) for a non-negative int n: the key is n's 32-bit words, least significant first.
local function init_by_array(mt, key)
  init_genrand(mt, 19650218)
  local i, j = 1, 0
  local k = math.max(N, #key)
  for _ = 1, k do
    local prev = mt[i - 1]
    mt[i] = ((mt[i] ~ ((prev ~ (prev >> 30)) * 1664525)) + key[j + 1] + j) & MASK32
    i, j = i + 1, j + 1
    if i >= N then mt[0] = mt[N - 1]; i = 1 end
    if j >= #key then j = 0 end
  end
  for _ = 1, N - 1 do
    local prev = mt[i - 1]
    mt[i] = ((mt[i] ~ ((prev ~ (prev >> 30)) * 1566083941)) - i) & MASK32
    i = i + 1
    if i >= N then mt[0] = mt[N - 1]; i = 1 end
  end
  mt[0] = 0x80000000
end

function S.py_random(seed)
  assert(math.type(seed) == "integer" and seed >= 0, "py_random: seed must be a non-negative integer")
  local key = {}
  local s = seed
  repeat
    key[#key + 1] = s & MASK32
    s = s >> 32
  until s == 0
  local mt = {}
  init_by_array(mt, key)
  return setmetatable({ mt = mt, mti = N }, Py)
end

-- genrand_uint32: the next tempered 32-bit output.
function Py:uint32()
  local mt = self.mt
  if self.mti >= N then
    for kk = 0, N - 1 do
      local y = (mt[kk] & 0x80000000) | (mt[(kk + 1) % N] & 0x7FFFFFFF)
      local v = mt[(kk + M) % N] ~ (y >> 1)
      if y & 1 == 1 then v = v ~ 0x9908B0DF end
      mt[kk] = v
    end
    self.mti = 0
  end
  local y = mt[self.mti]
  self.mti = self.mti + 1
  y = y ~ (y >> 11)
  y = y ~ ((y << 7) & 0x9D2C5680)
  y = y ~ ((y << 15) & 0xEFC60000)
  y = y ~ (y >> 18)
  return y & MASK32
end

-- getrandbits(k) for 1 <= k <= 32.
function Py:getrandbits(k)
  return self:uint32() >> (32 - k)
end

local function bit_length(n)
  local k = 0
  while n > 0 do k = k + 1; n = n >> 1 end
  return k
end

-- _randbelow_with_getrandbits(n) for 1 <= n < 2^32.
function Py:randbelow(n)
  local k = bit_length(n)
  local r = self:getrandbits(k)
  while r >= n do r = self:getrandbits(k) end
  return r
end

-- random.shuffle(x): for i in reversed(range(1, len(x))): j = randbelow(i + 1); swap x[i], x[j]
-- (0-based there; t is a 1-based Lua array here).
function Py:shuffle(t)
  for i = #t - 1, 1, -1 do
    local j = self:randbelow(i + 1)
    t[i + 1], t[j + 1] = t[j + 1], t[i + 1]
  end
  return t
end

-- random.random(): 53-bit float from two outputs, as CPython's random_random.
function Py:random()
  local a = self:uint32() >> 5
  local b = self:uint32() >> 6
  return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0)
end

---------------------------------------------------------------------------------------------
-- Elo and Kendall tau-b (IF-RewardBench metrics/analysis_overall_assessment.py)
---------------------------------------------------------------------------------------------

-- elo(n, comparisons, rng [, k_factor, initial, epochs]) -> ratings (1-based array of n floats).
-- comparisons: array of {loser, winner}, 0-based response indices, in the order the official
-- script builds them. Each epoch shuffles one working copy in place with rng (py_random), then
-- applies K * (1 - expected) updates; K = k_factor for epoch <= 0.2 * epochs, then decays
-- linearly to at least 1.
function S.elo(n, comparisons, rng, k_factor, initial, epochs)
  k_factor, initial, epochs = k_factor or 32, initial or 1200, epochs or 100
  local ratings = {}
  for i = 1, n do ratings[i] = initial + 0.0 end
  local data = {}
  for i, c in ipairs(comparisons) do data[i] = c end
  for epoch = 0, epochs - 1 do
    rng:shuffle(data)
    local k = k_factor + 0.0
    if epoch > epochs * 0.2 then
      local decay = (epoch - epochs * 0.2) / (epochs * 0.8)
      k = math.max(1.0, k_factor * (1 - decay))
    end
    for _, c in ipairs(data) do
      local loser, winner = c[1] + 1, c[2] + 1
      local rl, rw = ratings[loser], ratings[winner]
      local ew = 1 / (1 + 10 ^ ((rl - rw) / 400))
      local el = 1 / (1 + 10 ^ ((rw - rl) / 400))
      ratings[winner] = rw + k * (1 - ew)
      ratings[loser] = rl + k * (0 - el)
    end
  end
  return ratings
end

-- kendall_cdt(C, D, T) -> tau-b as the official script computes it from concordant (C),
-- discordant (D) and prediction-tied (T) gold edges (the gold graph has no ties).
function S.kendall_cdt(c, d, t)
  return (c - d) / math.max(1, math.sqrt((c + d) * (c + d + t)))
end

-- f1_pos_neg(hyp, ref) -> positive F1, negative F1 (0 when undefined, like the official script).
function S.f1_pos_neg(hyp, ref)
  assert(#hyp == #ref, "f1_pos_neg: lengths differ")
  if #hyp == 0 then return 0, 0 end
  local tp, tn, fp, fn = 0, 0, 0, 0
  for i = 1, #hyp do
    local h, r = hyp[i], ref[i]
    if h == 1 and r == 1 then tp = tp + 1
    elseif h == 0 and r == 0 then tn = tn + 1
    elseif h == 1 and r == 0 then fp = fp + 1
    elseif h == 0 and r == 1 then fn = fn + 1 end
  end
  local function f1(tpos, fpos, fneg)
    local p = (tpos + fpos) > 0 and tpos / (tpos + fpos) or 0
    local r = (tpos + fneg) > 0 and tpos / (tpos + fneg) or 0
    return (p + r) > 0 and (2 * p * r) / (p + r) or 0
  end
  return f1(tp, fp, fn), f1(tn, fn, fp)
end

return S
