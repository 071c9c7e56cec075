-- srm.reference: evidence that compares a record's response with its gold answer.
--
-- Each constructor takes {field = "response", gold = "answer", ...} (record field names or
-- dotted paths, these are the defaults) and returns an evidence item {kind =, describe =,
-- run = fn(record, ctx) -> result}. Scores are 1 (agrees) or 0; a missing or non-string
-- field gives status "input_error" with reason "record has no string field '<name>'".
local options = require "srm.options"
local extract = require "srm.extract"

local reference = {}

local SHOWN = 200
local clip = extract.clip

-- Validates the common options; returns field, gold. level: see options.check.
local function fields(api, opts, extra, level)
  local schema = {field = "string?", gold = "string?"}
  for k, v in pairs(extra) do schema[k] = v end
  options.check(api, opts, schema, level + 1)
  local field = options.check_path(api, "option 'field'", opts.field or "response", level + 1)
  local gold = options.check_path(api, "option 'gold'", opts.gold or "answer", level + 1)
  return field, gold
end

-- Reads both fields of a record: response, expected | nil, input_error result.
local function read(record, field, gold)
  local got, why = options.field(record, field)
  if not got then return nil, {status = "input_error", reason = why} end
  local want, why2 = options.field(record, gold)
  if not want then return nil, {status = "input_error", reason = why2} end
  return got, want
end

local function verdict(same, what_same, what_differs, detail)
  return {score = same and 1 or 0, status = "ok", reason = same and what_same or what_differs,
          detail = detail}
end

-- Text comparison evidence shared by exact and normalized: both sides go through `prepare`.
local function text_match(api, opts, prepare, describe, same, differs)
  local field, gold = fields(api, opts, {}, 4)
  return {
    kind = api,
    describe = describe(field, gold),
    run = function(record)
      local got, want = read(record, field, gold)
      if not got then return want end
      got, want = prepare(got), prepare(want)
      return verdict(got == want, same, differs,
        {got = clip(got, SHOWN), expected = clip(want, SHOWN)})
    end,
  }
end

--[[
reference.exact{field = "response", gold = "answer"} -> evidence
1 when the two fields are byte-equal after trimming surrounding whitespace, else 0.
]]
function reference.exact(opts)
  local item = text_match("reference.exact", opts, extract.trim,
    function(field, gold) return "'" .. field .. "' equals '" .. gold .. "' (trimmed)" end,
    "exact match", "not an exact match")
  return item -- not a tail call: option errors count stack levels to reach the skill's line
end

--[[
reference.normalized{field = "response", gold = "answer"} -> evidence
1 when extract.normalize_text gives the same text for both fields (SQuAD exact match), else 0.
]]
function reference.normalized(opts)
  local item = text_match("reference.normalized", opts, extract.normalize_text,
    function(field, gold) return "normalized text of '" .. field .. "' equals that of '" .. gold .. "'" end,
    "normalized match", "normalized texts differ")
  return item
end

--[[
reference.number{field = "response", gold = "answer", rel_tol = 1e-9} -> evidence
Compares extract.final_number of both fields with extract.numbers_equal. No number in the
response scores 0 ("no number in response"); no number in the gold field is an input_error.
detail = {extracted = text | nil, expected = text}.
]]
function reference.number(opts)
  local api = "reference.number"
  local field, gold = fields(api, opts, {rel_tol = "number?"}, 3)
  local rel_tol = opts.rel_tol
  if rel_tol and not (rel_tol >= 0 and rel_tol < math.huge) then
    error(api .. ": option 'rel_tol' must be a finite number >= 0, got " .. tostring(rel_tol), 2)
  end
  return {
    kind = "reference.number",
    describe = "final number of '" .. field .. "' vs '" .. gold .. "'",
    run = function(record)
      local got, want = read(record, field, gold)
      if not got then return want end
      local expected = extract.final_number(want)
      if not expected then
        return {status = "input_error", reason = "no number in gold field '" .. gold .. "'"}
      end
      local extracted = extract.final_number(got)
      local detail = {expected = clip(expected, SHOWN)}
      if extracted then detail.extracted = clip(extracted, SHOWN) end
      if not extracted then
        return {score = 0, status = "ok", reason = "no number in response", detail = detail}
      end
      local same = extract.numbers_equal(extracted, expected, rel_tol)
      return verdict(same, "numbers agree",
        clip(extracted, 40) .. " differs from " .. clip(expected, 40), detail)
    end,
  }
end

--[[
reference.choice{field = "response", gold = "answer", letters = "ABCD"} -> evidence
Compares extract.choice of the response with the gold letter. The gold field is either a
letter (any case) or text whose choice is extracted; none is an input_error. No choice in
the response scores 0 ("no choice in response"). detail = {extracted =, expected =}.
]]
function reference.choice(opts)
  local api = "reference.choice"
  local field, gold = fields(api, opts, {letters = "string?"}, 3)
  local letters = opts.letters or "ABCD"
  local ok, err = pcall(extract.choice, "", letters)
  if not ok then error((tostring(err):gsub("^extract%.choice", api)), 2) end
  return {
    kind = "reference.choice",
    describe = "choice (" .. letters .. ") in '" .. field .. "' vs '" .. gold .. "'",
    run = function(record)
      local got, want = read(record, field, gold)
      if not got then return want end
      local expected = extract.trim(want)
      if #expected == 1 and letters:find(expected:upper(), 1, true) then
        expected = expected:upper()
      else
        expected = extract.choice(want, letters)
      end
      if not expected then
        return {status = "input_error", reason = "no choice letter in gold field '" .. gold .. "'"}
      end
      local extracted = extract.choice(got, letters)
      local detail = {extracted = extracted, expected = expected}
      if not extracted then
        return {score = 0, status = "ok", reason = "no choice in response", detail = detail}
      end
      return verdict(extracted == expected, "choice " .. extracted .. " is correct",
        "choice " .. extracted .. ", expected " .. expected, detail)
    end,
  }
end

reference.math = require("srm.math_evidence").math
return reference
