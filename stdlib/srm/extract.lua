-- srm.extract: pulling final answers out of model text. Pure functions of strings (no records,
-- no state); linear in the input length, so they are safe on untrusted text of any size.
--
--   final_number(s)      GSM8K-style final numeric answer, as normalized text
--   to_number(text)      that text as a Lua number
--   numbers_equal(a, b)  exact for integers, relative tolerance otherwise
--   choice(s, letters)   multiple-choice letter
--   normalize_text(s)    SQuAD answer normalization
--   trim(s)              s without surrounding ASCII whitespace
--   clip(s, n)           at most n bytes of s, on a UTF-8 boundary
local options = require "srm.options"

local extract = {}

local check_type = options.check_type

local byte, sub, find = string.byte, string.sub, string.find

local DIGIT_0, DIGIT_9 = 48, 57
local DOT, COMMA, SLASH, MINUS, PLUS = 46, 44, 47, 45, 43

local function is_digit(c)
  return c ~= nil and c >= DIGIT_0 and c <= DIGIT_9
end

local function is_space(c)
  return c == 32 or (c ~= nil and c >= 9 and c <= 13)
end

-- Trims ASCII whitespace in linear time (a pattern like "^%s*(.-)%s*$" is quadratic on
-- untrusted text with long inner runs of spaces).
local function trim(s)
  local a = find(s, "%S")
  if not a then return "" end
  local e = #s
  while is_space(byte(s, e)) do e = e - 1 end
  return sub(s, a, e)
end

--[[
extract.clip(s, n) -> string
At most n bytes of s, cut back to the start of a UTF-8 character (for details and reasons).
]]
function extract.clip(s, n)
  check_type("extract.clip", "argument #1", s, "string")
  check_type("extract.clip", "argument #2", n, "integer")
  if #s <= n then return s end
  local e = math.max(n, 0)
  local steps = 0
  while steps < 3 and e > 0 and byte(s, e + 1) & 0xC0 == 0x80 do
    e = e - 1
    steps = steps + 1
  end
  return sub(s, 1, e)
end

--[[ extract.trim(s) -> string: s without leading and trailing ASCII whitespace. ]]
function extract.trim(s)
  check_type("extract.trim", "argument #1", s, "string")
  local t = trim(s)
  return t
end

-- End (inclusive) of the run of digits starting at i (i - 1 when there is none).
local function digits_end(s, i)
  local _, e = find(s, "^%d*", i)
  return e
end

-- A sign right before position i counts when it is not a hyphen inside a word or expression:
-- "-3", "x = -3", "(-3)" are negative; "5-3", "x-3", "2019-20" are not.
local UNICODE_MINUS = "\226\136\146" -- U+2212
local function sign_before(s, i)
  local c, len = byte(s, i - 1), 1
  if c ~= MINUS and c ~= PLUS then
    if i > 3 and sub(s, i - 3, i - 1) == UNICODE_MINUS then
      c, len = MINUS, 3
    else
      return nil, i
    end
  end
  local before = i - len - 1
  if before >= 1 and find(sub(s, before, before), "[%w%)%]}%._%%]") then return nil, i end
  return (c == MINUS) and "-" or "", i - len
end

-- Normalizes digits/decimal text: no commas, no leading zeros, no trailing decimal zeros,
-- "0.5" for ".5", and "0" for any zero (no "-0").
local function normalize_decimal(int, frac)
  int = int:gsub(",", ""):gsub("^0+", "")
  if int == "" then int = "0" end
  if frac then
    frac = frac:gsub("0+$", "")
    if frac ~= "" then return int .. "." .. frac end
  end
  return int
end

-- Scans the number token whose first digit is at position d. Returns its normalized text and
-- the position after it.
local function scan_number(s, d)
  local start = d
  -- ".5": a dot right before the digits, not itself after a digit (so "1.2.3" is 1.2 and 3)
  if byte(s, d - 1) == DOT and not is_digit(byte(s, d - 2)) then
    local e = digits_end(s, d)
    local sign, _ = sign_before(s, d - 1)
    local text = normalize_decimal("0", sub(s, d, e))
    if sign == "-" and text ~= "0" then text = "-" .. text end
    return text, e + 1
  end
  local e = digits_end(s, d)
  -- thousands separators: 1-3 leading digits, then groups of ",ddd" not followed by a digit
  if e - d + 1 <= 3 then
    while byte(s, e + 1) == COMMA and find(s, "^%d%d%d", e + 2) and not is_digit(byte(s, e + 5)) do
      e = e + 4
    end
  end
  local int = sub(s, d, e)
  local text
  if byte(s, e + 1) == DOT and is_digit(byte(s, e + 2)) then
    local fe = digits_end(s, e + 2)
    text = normalize_decimal(int, sub(s, e + 2, fe))
    e = fe
  elseif byte(s, e + 1) == SLASH and is_digit(byte(s, e + 2)) and not find(int, ",", 1, true) then
    local de = digits_end(s, e + 2)
    text = normalize_decimal(int) .. "/" .. normalize_decimal(sub(s, e + 2, de))
    e = de
  else
    text = normalize_decimal(int)
  end
  local sign = sign_before(s, start)
  if sign == "-" and not find(text, "^0[./]?0*$") then text = "-" .. text end
  return text, e + 1
end

-- Calls fn(text) for each number token in s from position init, in order.
local function each_number(s, init, fn)
  local i = init
  while true do
    local d = find(s, "%d", i)
    if not d then return end
    local text, after = scan_number(s, d)
    fn(text)
    i = after
  end
end

--[[
extract.final_number(s) -> string | nil
The first number after the LAST "####" when the text has one (GSM8K), otherwise the LAST number
in the text; nil when there is none. A number is an optional sign, digits with optional
thousands commas ("1,234,567"), an optional decimal part or ".5", or an integer fraction "3/4";
"$", "%", units and a trailing period around it are ignored. The result is normalized:
commas and "+" removed, "0.5" for ".5", no trailing decimal zeros ("$18.00" -> "18").
]]
function extract.final_number(s)
  check_type("extract.final_number", "argument #1", s, "string")
  local last_marker
  local i = 1
  while true do
    local m = find(s, "####", i, true)
    if not m then break end
    last_marker = m
    i = m + 1
  end
  if last_marker then
    local d = find(s, "%d", last_marker + 4)
    if not d then return nil end
    local text = scan_number(s, d)
    return text
  end
  local last
  each_number(s, 1, function(text) last = text end)
  return last
end

--[[
extract.to_number(text) -> number | nil
For final_number's results (commas are tolerated): integers stay integers, decimals are floats,
"a/b" is a/b as a float; nil for a zero denominator, a non-finite value or other text.
]]
function extract.to_number(text)
  check_type("extract.to_number", "argument #1", text, "string")
  -- Fast path for what final_number returns: plain integer or decimal text.
  if find(text, "^%-?%d+$") or find(text, "^%-?%d+%.%d+$") then
    local v = tonumber(text)
    if v == v and v ~= math.huge and v ~= -math.huge then return v end
  end
  text = trim((text:gsub(",", "")))
  local num, den = text:match("^([+-]?%d+)/(%d+)$")
  local v
  if num then
    local a, b = tonumber(num), tonumber(den)
    if b == 0 then return nil end
    v = a / b
  elseif text:find("^[+-]?%d+$") or text:find("^[+-]?%d+%.%d*$") or text:find("^[+-]?%.%d+$") then
    v = tonumber(text)
  end
  if v == nil or v ~= v or v == math.huge or v == -math.huge then return nil end
  return v
end

local function as_number(api, v, what)
  if type(v) == "number" then return v end
  check_type(api, what, v, "string|number", 4)
  return extract.to_number(v)
end

--[[
extract.numbers_equal(a, b [, rel_tol]) -> boolean
a and b are numbers or number text (see to_number). Two integers compare exactly; otherwise
|a - b| <= rel_tol * max(|a|, |b|) with rel_tol 1e-9 by default. Unreadable text is unequal.
]]
function extract.numbers_equal(a, b, rel_tol)
  local api = "extract.numbers_equal"
  check_type(api, "argument #3", rel_tol, "number?")
  local x = as_number(api, a, "argument #1")
  local y = as_number(api, b, "argument #2")
  if x == nil or y == nil or x ~= x or y ~= y then return false end
  if math.type(x) == "integer" and math.type(y) == "integer" then return x == y end
  if x == y then return true end
  local tol = rel_tol or 1e-9
  return math.abs(x - y) <= tol * math.max(math.abs(x), math.abs(y))
end

-------------------------------------------------------------------------------------------
-- multiple choice

local function letter_set(letters, level)
  local set = {}
  if letters == "" or #letters > 26 or letters:find("[^A-Z]") then
    error("extract.choice: letters must be distinct capitals A-Z, got '" .. letters .. "'", level)
  end
  for c in letters:gmatch(".") do
    if set[c] then
      error("extract.choice: letters must be distinct capitals A-Z, got '" .. letters .. "'", level)
    end
    set[c] = true
  end
  return set
end

-- After an "answer" marker at [.., e]: "is", ":", "is:" then optional markup, then the letter.
-- Lowercase letters are accepted here only, and then must end the phrase ("answer is a
-- number" is not a choice). Returns the capital letter or nil.
local function after_answer(s, lower, e, set)
  local p = e + 1
  local _, m = find(lower, "^%s*is%f[%W]%s*:?", p)
  if not m then _, m = find(lower, "^%s*:", p) end
  if not m then return nil end
  local _, k = find(s, "^[%s%*%(%[{\"'$]*", m + 1)
  p = k + 1
  -- "\boxed{B}" / "\text{B}" right after the marker
  for _, wrap in ipairs({"\\boxed{", "\\text{", "\\mathrm{", "\\textbf{"}) do
    if sub(s, p, p + #wrap - 1) == wrap then
      _, k = find(s, "^[%s%(]*", p + #wrap)
      p = k + 1
    end
  end
  local c = sub(s, p, p)
  local next_c = sub(s, p + 1, p + 1)
  if c:find("^[A-Z]$") then
    if next_c:find("^%w") then return nil end
  elseif c:find("^[a-z]$") then
    -- must be followed by closing markup/punctuation or the end of the line
    if not (next_c == "" or next_c:find("^[%)%].,;:*}\"'\n\r]")
        or find(s, "^[ \t]*[\r\n]", p + 1) or find(s, "^[ \t]*$", p + 1)) then
      return nil
    end
    c = c:upper()
  else
    return nil
  end
  if set[c] then return c end
  return nil
end

--[[
extract.choice(s [, letters]) -> letter | nil
letters (default "ABCD") are the valid capitals, e.g. "ABCDEFGHIJ". Precedence, first that
finds a valid letter wins:
  1. answer markers, the LAST one in the text: "answer is (B)", "answer: B", "Answer is: **B**",
     "The answer is \boxed{B}", and "\boxed{B}" / "\boxed{(B)}" alone. The word "answer" is
     matched in any case and only after it may the letter be lowercase ("answer is b").
  2. the last bold letter: "**B**", "**(B)**", "**B.**", "**B)**".
  3. "(B)" at the very end of the text (a period after it is fine).
  4. the last non-empty line is exactly "B." or "B)".
  5. the whole trimmed text is one capital letter "B".
Elsewhere letters must be capitals, so an article "a" or the pronoun "I" is not a choice.
]]
function extract.choice(s, letters)
  check_type("extract.choice", "argument #1", s, "string")
  check_type("extract.choice", "argument #2", letters, "string?")
  local set = letter_set(letters or "ABCD", 3)

  -- 1. answer markers and \boxed{}, whichever valid one comes last
  local best, best_pos
  local lower = s:lower()
  local i = 1
  while true do
    local a, e = find(lower, "answer", i, true)
    if not a then break end
    local c = after_answer(s, lower, e, set)
    if c then best, best_pos = c, a end
    i = e + 1
  end
  i = 1
  while true do
    local a, e = find(s, "\\boxed{", i, true)
    if not a then break end
    local c = s:match("^%s*%(?%s*([A-Z])%s*%)?%s*}", e + 1)
    if c and set[c] and (not best_pos or a > best_pos) then best, best_pos = c, a end
    i = e + 1
  end
  if best then return best end

  -- 2. bold letter, the last valid one
  for c in s:gmatch("%*%*%(?([A-Z])[%)%.]?%*%*") do
    if set[c] then best = c end
  end
  if best then return best end

  -- 3. "(B)" at the very end
  local trimmed = trim(s)
  local tail = sub(trimmed, -8)
  local c = tail:match("%(([A-Z])%)%.?$")
  if c and set[c] then return c end

  -- 4. the last non-empty line is "B." or "B)"
  local nl = #trimmed
  while nl > 0 and byte(trimmed, nl) ~= 10 and byte(trimmed, nl) ~= 13 do nl = nl - 1 end
  c = trim(sub(trimmed, nl + 1)):match("^([A-Z])[%.%)]$")
  if c and set[c] then return c end

  -- 5. the whole text is one letter
  c = trimmed:match("^([A-Z])$")
  if c and set[c] then return c end
  return nil
end

--[[
extract.normalize_text(s) -> string
SQuAD normalization: lowercase (ASCII), remove ASCII punctuation, drop the articles a/an/the,
collapse whitespace and trim.
]]
function extract.normalize_text(s)
  check_type("extract.normalize_text", "argument #1", s, "string")
  local words = {}
  for w in s:lower():gsub("%p", ""):gmatch("%S+") do
    if w ~= "a" and w ~= "an" and w ~= "the" then words[#words + 1] = w end
  end
  return table.concat(words, " ")
end

return extract
