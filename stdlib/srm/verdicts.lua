-- srm.verdicts: the verdicts LLM judges write in text, read by one table-driven parser.
--
-- A judge's reply is read for one kind of verdict:
--
--   pair       "A" | "B" | "tie"                      ([[A]], Winner: Response B, Output (a), A>B)
--   scaled     "A>>B" | "A>B" | "A=B" | "B>A" | "B>>A" ([[A>>B]], Verdict: B > A, A<<B)
--   index      1..n                                   ([[C]], {"best": 2}, Best: Candidate 3)
--   score      a number within {lo, hi}               (Score: 7, {"score": 3.5}, Rating: [[8]])
--   checklist  {bool, ...}, one per item              (1. Yes / 2. No / Item 3: not satisfied)
--
-- parse(text, spec) first drops <think>...</think> blocks (an unclosed <think> drops the rest
-- of the reply; a stray </think> keeps only what follows the last one), then tries the forms of
-- spec.forms in order. The first form with a valid match decides; within a form the last match
-- counts (spec.occurrence = "first" takes the first). The forms:
--
--   json      a JSON object (the whole reply, a ``` fence, or the outermost {...}): the first of
--             spec.keys that holds a valid value
--   brackets  [[X]] with X at most 12 bytes
--   keys      a line "<label> : X" / "<label> = X" / "<label> is X", label from spec.labels
--             (lower case; "final verdict", "winner", ...), Markdown emphasis and quotes
--             ignored; X may be prefixed by Response/Output/Assistant/Candidate/Option/Model
--             and wrapped in (), [] or [[]]
--   output    "Output (a)", "Response (B)", "Assistant (a)" (pair and index kinds)
--   relation  a bare comparison of capital letters: A>B, A >> B, B<A, A=B (pair and scaled)
--
-- Truncated replies (spec.truncated, e.g. finish_reason "length"): the reply ended before the
-- judge finished, so a label in its body is usually the judge quoting the format or thinking
-- aloud. Only the last spec.tail bytes (default 300) are read: a verdict written right before
-- the cut still counts, one from the middle of the reasoning does not.
--
-- Every function is linear in the length of the text (no backtracking patterns on untrusted
-- input) and never raises on text: invalid UTF-8, NUL bytes and huge replies give nil.
local json = require "srm.json"

local M = {}

local find, sub, lower, byte = string.find, string.sub, string.lower, string.byte

M.LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
M.TAIL = 300

local PAIR = {
  a = "A", b = "B", tie = "tie", tied = "tie", c = "tie", draw = "tie", equal = "tie",
  ["a=b"] = "tie", ["b=a"] = "tie", ["a>b"] = "A", ["a>>b"] = "A", ["b<a"] = "A", ["b<<a"] = "A",
  ["b>a"] = "B", ["b>>a"] = "B", ["a<b"] = "B", ["a<<b"] = "B",
}
local SCALED = {
  ["a>>b"] = "A>>B", ["a>b"] = "A>B", ["a=b"] = "A=B", ["b>a"] = "B>A", ["b>>a"] = "B>>A",
  ["b<<a"] = "A>>B", ["b<a"] = "A>B", ["b=a"] = "A=B", ["a<b"] = "B>A", ["a<<b"] = "B>>A",
  tie = "A=B", tied = "A=B",
}

-- Words a judge puts before a letter ("Response B", "Output (a)").
local FILLERS = { "response", "output", "assistant", "candidate", "option", "model", "answer" }

-- Default JSON keys and line labels per kind (tried in this order).
M.KEYS = {
  pair = { "verdict", "winner", "decision", "preference", "choice", "better", "best" },
  scaled = { "verdict", "decision", "preference", "winner", "choice" },
  index = { "best", "verdict", "choice", "winner", "answer" },
  score = { "score", "rating", "verdict" },
}
M.LABELS = {
  pair = { "final verdict", "final decision", "final answer", "verdict", "decision", "winner",
    "better response", "preferred response", "final" },
  scaled = { "final verdict", "final decision", "final answer", "verdict", "decision", "final" },
  index = { "final verdict", "final answer", "final decision", "best response", "best candidate",
    "verdict", "decision", "winner", "best", "choice", "final" },
  score = { "final score", "overall score", "final verdict", "final answer", "score", "rating",
    "verdict", "final" },
}
M.FORMS = {
  pair = { "json", "brackets", "keys", "output", "relation" },
  scaled = { "json", "brackets", "keys", "relation" },
  index = { "json", "brackets", "keys", "output" },
  score = { "json", "brackets", "keys" },
}

---------------------------------------------------------------------------------------------
-- Text helpers (linear)

local trim = require("srm.extract").trim -- linear in the text's length

--[[
verdicts.strip_think(text) -> string
Removes <think>...</think> blocks. An unclosed <think> drops the rest of the text; when a
</think> is left without its opening tag (eaten by a chat template), only what follows the
last one is kept. Non-strings give "".
]]
function M.strip_think(text)
  if type(text) ~= "string" then return "" end
  local parts, pos = {}, 1
  while true do
    local s = find(text, "<think>", pos, true)
    if not s then
      parts[#parts + 1] = sub(text, pos)
      break
    end
    parts[#parts + 1] = sub(text, pos, s - 1)
    local _, e = find(text, "</think>", s + 7, true)
    if not e then break end -- unclosed: nothing after it is an answer
    pos = e + 1
  end
  local out = table.concat(parts)
  local last
  local i = 1
  while true do
    local s, e = find(out, "</think>", i, true)
    if not s then break end
    last, i = e, e + 1
  end
  if last then out = sub(out, last + 1) end
  return out
end

--[[
verdicts.json_object(text) -> table | nil
The JSON object (or array) of a reply: the whole text, the first ``` fence (```json or bare),
or the text from the first "{" to the last "}".
]]
function M.json_object(text)
  if type(text) ~= "string" then return nil end
  local doc = json.decode(text)
  if type(doc) == "table" then return doc end
  local f = find(text, "```", 1, true)
  if f then
    local body = f + 3
    if sub(text, body, body + 3) == "json" then body = body + 4 end
    local close = find(text, "```", body, true)
    if close then
      doc = json.decode(sub(text, body, close - 1))
      if type(doc) == "table" then return doc end
    end
  end
  local first = find(text, "{", 1, true)
  local last
  for i = #text, 1, -1 do
    if byte(text, i) == 125 then last = i break end -- "}"
  end
  if first and last and last > first then
    doc = json.decode(sub(text, first, last))
    if type(doc) == "table" then return doc end
  end
  return nil
end

---------------------------------------------------------------------------------------------
-- Normalization: a raw value -> the verdict of a kind, or nil

-- A short token cleaned for lookup: lower case, no spaces, emphasis, quotes or a trailing
-- period; "Response B" -> "b", "(a)" -> "a", "[[A>B]]" -> "a>b".
local function clean_token(s)
  if #s > 64 then return nil end
  s = lower(s):gsub("[%s%*`\"'_]", "")
  for _, w in ipairs(FILLERS) do
    if sub(s, 1, #w) == w and #s > #w then
      s = sub(s, #w + 1)
      break
    end
  end
  s = s:gsub("^[%(%[]+", ""):gsub("[%)%]%.!,;:]+$", "")
  return s
end

--[[
verdicts.normalize(kind, raw, spec) -> verdict | nil
raw: a string or a number from the reply. spec.n: the number of candidates (index); spec.scale:
{lo, hi} (score). Strings are read case-insensitively after clean-up ("Response B", "**Tie**").
]]
function M.normalize(kind, raw, spec)
  spec = spec or {}
  local t = type(raw)
  if kind == "score" then
    local s = t == "number" and raw or (t == "string" and #raw <= 64 and tonumber(trim(raw))) or nil
    local sc = spec.scale or { -math.huge, math.huge }
    if s and s == s and s >= sc[1] and s <= sc[2] then return s end
    return nil
  end
  if kind == "index" then
    local n = spec.n or #M.LETTERS
    local i
    if t == "number" then
      i = math.tointeger(raw)
    elseif t == "string" then
      local c = clean_token(raw)
      if not c or c == "" then return nil end
      if #c == 1 and c:match("%a") then
        i = find(M.LETTERS, c:upper(), 1, true)
      else
        i = math.tointeger(tonumber(c))
      end
    end
    if i and i >= 1 and i <= n then return i end
    return nil
  end
  if t ~= "string" then return nil end
  local c = clean_token(raw)
  if not c then return nil end
  if kind == "pair" then return PAIR[c] end
  if kind == "scaled" then return SCALED[c] end
  error("verdicts.normalize: unknown kind '" .. tostring(kind) .. "'", 2)
end

---------------------------------------------------------------------------------------------
-- Forms: each returns the list of valid verdicts in text order

local FORMS = {}

function FORMS.json(text, kind, spec)
  local doc = M.json_object(text)
  if type(doc) ~= "table" then return {} end
  for _, k in ipairs(spec.keys or M.KEYS[kind]) do
    local v = M.normalize(kind, doc[k], spec)
    if v ~= nil then return { v } end
  end
  return {}
end

function FORMS.brackets(text, kind, spec)
  local out = {}
  for label in text:gmatch("%[%[([^%[%]\n]-)%]%]") do
    if #label <= 12 then
      local v = M.normalize(kind, label, spec)
      if v ~= nil then out[#out + 1] = v end
    end
  end
  return out
end

-- The value after a label: the rest of the line, read for the kind.
local function read_value(rest, kind, spec)
  rest = rest:gsub("[%*`\"]", "")
  if kind == "score" then
    local num = rest:match("^%s*%[?%[?%s*(%-?%d+%.?%d*)")
    return num and M.normalize("score", num, spec)
  end
  if kind == "pair" or kind == "scaled" then
    -- a comparison first: "B > A", "A>>B", "[[A=B]]"
    local packed = sub(rest, 1, 40):gsub("%s", "")
    local rel = packed:match("^[%(%[]*([AaBb][<>=][<>=]?[AaBb])%f[^%w]")
    if rel then
      local v = M.normalize(kind, rel, spec)
      if v ~= nil then return v end
    end
    if kind == "scaled" then return M.normalize(kind, packed:match("^[%(%[]*(%a+)") or "", spec) end
  end
  -- a word, after an optional filler: "Response B", "Output (a)", "Tie.", "3"
  local s = lower(sub(rest, 1, 80))
  s = s:gsub("^[%s%[%(]+", "")
  for _, w in ipairs(FILLERS) do
    if sub(s, 1, #w) == w and not s:match("^%a", #w + 1) then
      s = s:sub(#w + 1):gsub("^[%s%[%(#]+", "")
      break
    end
  end
  local word = s:match("^(%w+)")
  return word and M.normalize(kind, word, spec)
end

-- Where a label starts a verdict in a lower-cased line: the end of "<label> <sep>", or nil.
local function label_end(l, label)
  local init = 1
  while true do
    local s, e = find(l, label, init, true)
    if not s then return nil end
    local before = s > 1 and byte(l, s - 1) or nil
    if not (before and ((before >= 97 and before <= 122) or (before >= 48 and before <= 57))) then
      local _, se = find(l, "^[%s%*\"'`]*[:=]", e + 1)
      if not se then _, se = find(l, "^[%s%*\"'`]+is%s", e + 1) end
      if se then return se end
    end
    init = e + 1
  end
end

function FORMS.keys(text, kind, spec)
  local out = {}
  local labels = spec.labels or M.LABELS[kind]
  for line in text:gmatch("[^\n]+") do
    local l = lower(line)
    for _, label in ipairs(labels) do
      local e = label_end(l, label)
      if e then
        local v = read_value(sub(line, e + 1), kind, spec)
        if v ~= nil then out[#out + 1] = v end
        break
      end
    end
  end
  return out
end

function FORMS.output(text, kind, spec)
  if kind ~= "pair" and kind ~= "index" then return {} end
  local l = lower(text)
  local found = {}
  for _, w in ipairs { "output", "response", "assistant", "candidate" } do
    local init = 1
    while true do
      local s, e, letter = find(l, w .. "%s*%(([a-z])%)", init)
      if not s then break end
      local v = M.normalize(kind, letter, spec)
      if v ~= nil and kind == "pair" and v == "tie" then v = nil end -- "(c)" is no side
      if v ~= nil then found[#found + 1] = { s, v } end
      init = e + 1
    end
  end
  table.sort(found, function(a, b) return a[1] < b[1] end)
  local out = {}
  for i, f in ipairs(found) do out[i] = f[2] end
  return out
end

function FORMS.relation(text, kind, spec)
  if kind ~= "pair" and kind ~= "scaled" then return {} end
  local out = {}
  for rel in text:gmatch("%f[%w]([AB]%s?[<>=][<>=]?%s?[AB])%f[%W]") do
    local v = M.normalize(kind, rel, spec)
    if v ~= nil then out[#out + 1] = v end
  end
  return out
end

M.FORM_NAMES = { json = true, brackets = true, keys = true, output = true, relation = true }

local SPEC_KEYS = { n = true, scale = true, forms = true, keys = true, labels = true,
  occurrence = true, truncated = true, tail = true }

local function check_spec(api, kind, spec)
  if not M.FORMS[kind] then error(api .. ": unknown kind '" .. tostring(kind) .. "'", 3) end
  if spec == nil then return {} end
  if type(spec) ~= "table" then error(api .. ": spec must be a table", 3) end
  for k in pairs(spec) do
    if not SPEC_KEYS[k] then error(api .. ": unknown spec key '" .. tostring(k) .. "'", 3) end
  end
  local occ = spec.occurrence
  if occ ~= nil and occ ~= "first" and occ ~= "last" then
    error(api .. ": occurrence must be 'first' or 'last'", 3)
  end
  for _, f in ipairs(spec.forms or {}) do
    if not M.FORM_NAMES[f] then error(api .. ": unknown form '" .. tostring(f) .. "'", 3) end
  end
  return spec
end

-- The text a parser reads: <think> removed; a truncated reply only in its tail.
local function prepare(text, spec)
  text = M.strip_think(text)
  if spec.truncated then
    local tail = spec.tail or M.TAIL
    if #text > tail then text = sub(text, #text - tail + 1) end
  end
  return text
end

--[[
verdicts.parse(text, kind, spec) -> verdict, form | nil
kind: "pair" | "scaled" | "index" | "score". spec (all optional): n (index: candidates, default
26), scale ({lo, hi} for score), forms (names, in order; default M.FORMS[kind]), keys (JSON keys),
labels (line labels, lower case), occurrence ("last" default, or "first"), truncated (read only
the tail), tail (bytes, default 300). Returns the verdict and the name of the form that gave it.
Raises on a bad kind or spec; never on text.
]]
function M.parse(text, kind, spec)
  spec = check_spec("verdicts.parse", kind, spec)
  if type(text) ~= "string" then return nil end
  text = prepare(text, spec)
  if text == "" then return nil end
  for _, name in ipairs(spec.forms or M.FORMS[kind]) do
    local found = FORMS[name](text, kind, spec)
    if #found > 0 then
      return spec.occurrence == "first" and found[1] or found[#found], name
    end
  end
  return nil
end

---------------------------------------------------------------------------------------------
-- Checklist blocks

local YES = { yes = true, ["true"] = true, pass = true, passed = true, passes = true,
  satisfied = true, met = true, correct = true, fulfilled = true, followed = true, ok = true,
  x = true }
local NO = { no = false, ["false"] = false, fail = false, failed = false,
  fails = false, unsatisfied = false, violated = false, incorrect = false, unmet = false,
  partial = false, partially = false, ["not"] = false }

local function answer_of(word)
  if not word then return nil end
  if YES[word] then return true end
  if NO[word] ~= nil then return false end
  return nil
end

local ITEM_WORDS = { "item", "question", "check", "criterion", "requirement", "constraint", "q" }

-- One checklist line -> item number, answer | nil.
local function item_line(line)
  local l = lower(sub(line, 1, 2000)):gsub("[%*_`]", "")
  l = l:gsub("^[%s#>%-%+]*", "")
  for _, w in ipairs(ITEM_WORDS) do
    if sub(l, 1, #w) == w and not l:match("^%a", #w + 1) then
      l = l:sub(#w + 1):gsub("^%s*#?", "")
      break
    end
  end
  local num, after = l:match("^%(?%[?(%d+)[%]%.%):]%s*(.*)$")
  if not num then return nil end
  local k = math.tointeger(tonumber(num))
  if not k or k < 1 or k > 10000 then return nil end
  -- the answer right after the number ("1. Yes - it is"), else at the end of the line after
  -- a separator ("1. Uses lowercase? -> No.")
  local first = after:match("^%[?%s*(%a+)")
  local a = answer_of(first)
  if a == nil and after:match("^%[%s*%]") then a = false end -- an unticked box
  if a == nil then
    local last = after:match("[:%?%-=>%)]%s*(%a+)[%.!]?%s*$")
    a = answer_of(last)
    if a ~= nil and after:match("[:%?%-=>%)]%s*not%s+%a+[%.!]?%s*$") then a = false end
  end
  if a == nil then return nil end
  return k, a
end

--[[
verdicts.checklist(text, n, spec) -> {bool, ...} | nil, partial
The per-item yes/no lines of a checklist block ("1. Yes", "Item 2: No - too long", "[3] pass",
"Q4: not satisfied", "5) Does it rhyme? -> yes"). Lines are grouped into blocks: an item number
that does not increase starts a new block (a judge that drafts, then answers again). The last
block (spec.occurrence = "first": the first) holding an answer for every item 1..n is returned;
n = nil takes the block's highest item. Without a complete block: nil, and the chosen block's
answers as `partial` ({[k] = bool}). spec.truncated / spec.tail as in parse.
]]
function M.checklist(text, n, spec)
  spec = spec or {}
  if n ~= nil and (math.type(n) ~= "integer" or n < 1) then
    error("verdicts.checklist: n must be a positive integer or nil", 2)
  end
  if type(text) ~= "string" then return nil, {} end
  text = prepare(text, spec)
  local blocks, cur, prev = {}, nil, 0
  for line in text:gmatch("[^\n]+") do
    local k, a = item_line(line)
    if k then
      if not cur or k <= prev then
        cur = { items = {}, max = 0 }
        blocks[#blocks + 1] = cur
      end
      cur.items[k] = a
      if k > cur.max then cur.max = k end
      prev = k
    end
  end
  local function complete(b)
    local want = n or b.max
    for k = 1, want do
      if b.items[k] == nil then return nil end
    end
    local out = {}
    for k = 1, want do out[k] = b.items[k] end
    return out
  end
  local first, last, step = #blocks, 1, -1
  if spec.occurrence == "first" then first, last, step = 1, #blocks, 1 end
  for i = first, last, step do
    local got = complete(blocks[i])
    if got then return got end
  end
  local chosen = blocks[spec.occurrence == "first" and 1 or #blocks]
  return nil, chosen and chosen.items or {}
end

return M
