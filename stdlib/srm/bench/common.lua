-- srm.bench.common: what the benchmark loaders and metrics share (trusted host code only; the
-- skill sandbox never exposes srm.bench.*).
--
--   rng(seed, key)        a reproducible random stream: splitmix64 on Lua's 64-bit integers
--   read_records(path)    a benchmark file as an array of records (JSON array or JSONL)
--   pair_verdict(p)       "A" | "B" | "tie" | nil from a prediction (row.verdict)
--   index_verdict(p, n)   1..n | nil from a prediction (listwise: integer or letter)
--   rating(p)             a number | nil (pointwise: row.detail.verdict, else row.score)
--   mean(list), fmt(x), md_table(header, rows)
--
-- A prediction is a decoded srm row: {bench = {...}, status, verdict, score, detail}. It has a
-- valid verdict only when its status is "ok" or "abstain" (a listwise judge without a gold field
-- abstains and still names its pick) and its verdict parses for the task kind; every other
-- status (judge_failed, timeout, skill_error, input_error, ...) counts as "no valid verdict".
local json = require "srm.json"

local C = {}

C.null = json.null -- a metric that is undefined (no samples) is written as JSON null

---------------------------------------------------------------------------------------------
-- Random streams
---------------------------------------------------------------------------------------------

-- splitmix64 (Steele, Lea, Flood 2014): state += golden gamma, then two xor-shift-multiply
-- rounds. Lua 5.4 integers are 64-bit two's complement and wrap on overflow, `>>` is a logical
-- shift, so this is the reference algorithm bit for bit on every machine.
local GAMMA = 0x9E3779B97F4A7C15
local function mix(z)
  z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
  z = (z ~ (z >> 27)) * 0x94D049BB133111EB
  return z ~ (z >> 31)
end

-- FNV-1a 64 of a string: turns a sample key into a stream selector.
local function fnv1a(s)
  local h = 0xCBF29CE484222325
  for i = 1, #s do h = (h ~ s:byte(i)) * 0x100000001B3 end
  return h
end
C.fnv1a = fnv1a

local Rng = {}
Rng.__index = Rng

-- The next 64-bit value (a Lua integer, any sign).
function Rng:next()
  self.state = self.state + GAMMA
  return mix(self.state)
end

-- Uniform integer in [0, n) for 1 <= n < 2^53: the top 53 bits, with rejection of the short
-- last block so every value is equally likely.
function Rng:below(n)
  local span = 1 << 53
  local limit = span - span % n
  while true do
    local r = self:next() >> 11
    if r < limit then return r % n end
  end
end

-- Fisher-Yates in place, from the last element down: t[i] swaps with t[below(i) + 1].
function Rng:shuffle(t)
  for i = #t, 2, -1 do
    local j = self:below(i) + 1
    t[i], t[j] = t[j], t[i]
  end
  return t
end

-- rng(seed, key) -> stream. The stream of a sample depends only on the run seed and the sample's
-- key (bench name and sample id), never on file order, so adding or removing other samples does
-- not change it. Seed and key are mixed as mix(seed ~ fnv1a(key)).
function C.rng(seed, key)
  return setmetatable({ state = mix((seed or 0) ~ fnv1a(key or "")) }, Rng)
end

-- raw_rng(state) -> the plain splitmix64 stream from a given state (reference vectors).
function C.raw_rng(state)
  return setmetatable({ state = state }, Rng)
end

---------------------------------------------------------------------------------------------
-- Files
---------------------------------------------------------------------------------------------

-- JSON null becomes nil, recursively (benchmark data uses null for "absent").
local function strip_nulls(v, depth)
  if type(v) ~= "table" or depth > 64 then return v end
  for k, x in pairs(v) do
    if x == json.null then v[k] = nil else strip_nulls(x, depth + 1) end
  end
  return v
end
C.strip_nulls = function(v) return strip_nulls(v, 0) end

-- read_records(path) -> array of {record, where}. A file whose first non-blank byte is `[` is one
-- JSON array (RM-Bench, IF-RewardBench); anything else is JSONL (blank lines skipped). Raises
-- "PATH:LINE: ..." on unreadable files, invalid JSON or a record that is not an object.
function C.read_records(path)
  local f, err = io.open(path, "rb")
  if not f then error(err, 0) end
  local text = f:read("a")
  f:close()
  local out = {}
  local first = text:match("^%s*()")
  if text:sub(first, first) == "[" then
    local doc, msg = json.decode(text)
    if type(doc) ~= "table" then error(path .. ": invalid JSON: " .. tostring(msg), 0) end
    for i, r in ipairs(doc) do
      if type(r) ~= "table" then error(path .. ": element " .. i .. " is not an object", 0) end
      out[#out + 1] = { record = strip_nulls(r, 0), where = path .. ": element " .. i }
    end
    return out
  end
  local n = 0
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do
    n = n + 1
    if n == 1 then line = line:gsub("^\239\187\191", "") end
    if line:find("%S") then
      local r, msg = json.decode(line)
      if type(r) ~= "table" or json.is_array(r) then
        error(string.format("%s:%d: %s", path, n, r == nil and ("invalid JSON: " .. tostring(msg))
          or "not a JSON object"), 0)
      end
      out[#out + 1] = { record = strip_nulls(r, 0), where = path .. ":" .. n }
    end
  end
  return out
end

-- Writes text atomically enough for a CLI: whole content, then close; raises on failure.
function C.write_file(path, text)
  local f, err = io.open(path, "wb")
  if not f then error(err, 0) end
  local ok, werr = f:write(text)
  if not ok then f:close() error(path .. ": " .. tostring(werr), 0) end
  local cok, cerr = f:close()
  if not cok then error(path .. ": " .. tostring(cerr), 0) end
end

---------------------------------------------------------------------------------------------
-- Verdicts
---------------------------------------------------------------------------------------------

local VERDICT_STATUS = { ok = true, abstain = true }

-- Whether the prediction's status lets its verdict count.
function C.has_status(p)
  return VERDICT_STATUS[p.status] == true
end

local PAIR = {
  a = "A", b = "B", tie = "tie", ["a>b"] = "A", ["a>>b"] = "A", ["b>a"] = "B", ["b>>a"] = "B",
  ["a=b"] = "tie", ["b=a"] = "tie",
}

-- pair_verdict(p) -> "A" | "B" | "tie" | nil. Accepts row.verdict "A"/"B"/"tie" (srm.judge
-- pairwise) and the Arena-Hard forms "A>B", "A>>B", "B>A", "B>>A", "A=B", case-insensitive.
function C.pair_verdict(p)
  if not C.has_status(p) then return nil end
  local v = p.verdict
  if type(v) ~= "string" then return nil end
  return PAIR[v:lower()]
end

local LETTERS = { A = 1, B = 2, C = 3, D = 4, E = 5, F = 6, G = 7, H = 8, I = 9, J = 10 }

-- index_verdict(p, n) -> 1..n | nil: row.verdict as a 1-based integer or a letter A, B, ...
function C.index_verdict(p, n)
  if not C.has_status(p) then return nil end
  local v = p.verdict
  local i
  if type(v) == "number" then i = math.tointeger(v)
  elseif type(v) == "string" then i = LETTERS[v:upper()] or math.tointeger(tonumber(v)) end
  if i and i >= 1 and i <= n then return i end
  return nil
end

-- rating(p) -> number | nil: the raw verdict of a rubric judge (row.detail.verdict, e.g. 1-10)
-- when it is a number, else the row score; only for status "ok".
function C.rating(p)
  if p.status ~= "ok" then return nil end
  local d = p.detail
  if type(d) == "table" and type(d.verdict) == "number" then return d.verdict end
  if type(p.score) == "number" then return p.score end
  return nil
end

---------------------------------------------------------------------------------------------
-- Numbers and Markdown
---------------------------------------------------------------------------------------------

-- Reference selections over the first n scores of N candidates: the first one's score (pass@1),
-- the mean (the expected score of a uniform random pick) and the best (the oracle).
function C.reference_picks(scores, n)
  local total, best = 0, scores[1]
  for i = 1, n do
    total = total + scores[i]
    if scores[i] > best then best = scores[i] end
  end
  return scores[1], total / n, best
end

-- Arithmetic mean, or nil for an empty list. Sums left to right like Python's sum().
-- Groups prediction rows by their sample (bench.sample), samples in the order they first appear.
-- new_group(b) builds a sample's group from its first row's bench; add(group, row, b) records a
-- row and returns false when the row holds no valid verdict.
-- -> groups (sample -> group), order (samples), rows, rows without a valid verdict
function C.group_by_sample(preds, new_group, add)
  local groups, order, no_verdict = {}, {}, 0
  for _, p in ipairs(preds) do
    local b = p.bench
    local g = groups[b.sample]
    if not g then
      g = new_group(b)
      groups[b.sample] = g
      order[#order + 1] = b.sample
    end
    if add(g, p, b) == false then no_verdict = no_verdict + 1 end
  end
  return groups, order, #preds, no_verdict
end

function C.mean(list)
  if #list == 0 then return nil end
  local s = 0
  for _, x in ipairs(list) do s = s + x end
  return s / #list
end

-- A metric for Markdown: 2 decimals, "-" when absent. scale multiplies first (100 for percent).
function C.fmt(x, scale)
  if type(x) ~= "number" then return "-" end
  return string.format("%.2f", x * (scale or 1))
end

-- A Markdown table from a header row and data rows (arrays of strings).
function C.md_table(header, rows)
  local out = { "| " .. table.concat(header, " | ") .. " |" }
  local sep = {}
  for i = 1, #header do sep[i] = i == 1 and "---" or "---:" end
  out[#out + 1] = "|" .. table.concat(sep, "|") .. "|"
  for _, r in ipairs(rows) do out[#out + 1] = "| " .. table.concat(r, " | ") .. " |" end
  return table.concat(out, "\n") .. "\n"
end

-- Sorted keys of a table (strings compare bytewise).
function C.sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

-- A string field of a record, or nil.
function C.str(v)
  if type(v) == "string" then return v end
  if math.type(v) == "integer" then return tostring(v) end
  return nil
end

return C
