-- srm.judge: LLM-judge evidence built on srm.llm.
--
-- judge.rubric   pointwise: a rubric (Markdown file next to the skill), a score scale, the
--                reason written before the verdict, JSON-schema output with a tolerant parser,
--                one re-ask on an unparsable reply, then judge_failed with the raw reply.
-- judge.pairwise A vs B, optionally judged in both orders (one batched round trip); when the
--                two orders disagree the verdict is a tie.
-- judge.listwise best of N candidates; verdict = the chosen index.
-- judge.checklist per-item pass/fail, k items per call, the calls of one record in one batch.
-- Each constructor returns an evidence item {kind, describe, run}; run yields the record while
-- the model answers. Scores are normalized to [0, 1]; detail keeps the raw verdict.
local llm = require "srm.llm"
local json = require "srm.json"
local options = require "srm.options"
local files = require "srm.files"
local extract = require "srm.extract"
local verdicts = require "srm.verdicts"

local judge = {}

local RAW_SHOWN = 500

local function field_or_nil(record, name)
  if not name then return nil end
  local v = options.field(record, name)
  return v
end

-- The first JSON object in a reply: the whole text, a ```json fence, or the outermost {...}
-- (srm.verdicts, shared with the agent judge).
local json_object = verdicts.json_object
judge.json_object = json_object

local function is_digit(c) return c ~= nil and c >= 48 and c <= 57 end
local function is_space(c) return c == 32 or (c ~= nil and c >= 9 and c <= 13) end

-- The first "N/hi" in text ("7/10", "7.5 / 10"; N as %-?%d+%.?%d*) as a number, or nil. A
-- scan back from each '/' rather than the pattern "(%-?%d+%.?%d*)%s*/%s*10": that pattern
-- backtracks cubically on a run of digits (a reply of 2,000 digits took 43 s inside one
-- string.match call, which no hook can interrupt). Linear: each byte is looked at a bounded
-- number of times.
local function score_over(text, hi)
  local top = tostring(hi)
  local init = 1
  while true do
    local slash = text:find("/", init, true)
    if not slash then return nil end
    init = slash + 1
    local after = slash + 1
    while is_space(text:byte(after)) do after = after + 1 end
    if text:sub(after, after + #top - 1) == top and not is_digit(text:byte(after + #top)) then
      local e = slash - 1
      while e >= 1 and is_space(text:byte(e)) do e = e - 1 end
      local s = e -- text[s+1 .. e] are the digits right before the slash
      while s >= 1 and is_digit(text:byte(s)) do s = s - 1 end
      local first
      if text:byte(s) == 46 and is_digit(text:byte(s - 1)) then -- "12.5" or "12."
        first = s - 1
        while first >= 1 and is_digit(text:byte(first)) do first = first - 1 end
        first = first + 1
      elseif s < e then
        first = s + 1
      end
      if first then
        if text:byte(first - 1) == 45 then first = first - 1 end -- "-"
        return tonumber(text:sub(first, e))
      end
    end
  end
end

-- A numeric score from a reply: the JSON field, else "score: N" / "Score = N" / "N/10" text.
local function parse_score(text, lo, hi)
  local doc = json_object(text)
  local s = doc and tonumber(doc.score)
  local why = doc and type(doc.reason) == "string" and doc.reason or nil
  if not s and type(text) == "string" then
    local lower = text:lower()
    s = tonumber(lower:match('"?score"?%s*[:=]%s*(%-?%d+%.?%d*)')) or score_over(lower, hi)
  end
  if s and s >= lo and s <= hi then return s, why end
  return nil
end
judge.parse_score = parse_score

local RUBRIC_OPTS = {
  rubric = "string?", rubric_text = "string?", scale = "table?", field = "string?",
  prompt_field = "string?", reference_field = "string?", model = "string?",
  temperature = "number?", max_tokens = "integer?", timeout = "number?", retries = "integer?",
  json_schema = "boolean?", system = "string?",
}

local function score_schema(lo, hi)
  return {
    type = "json_schema",
    json_schema = {
      name = "verdict",
      strict = true,
      schema = {
        type = "object",
        properties = {
          reason = { type = "string" },
          score = { type = "integer", minimum = lo, maximum = hi },
        },
        required = json.array { "reason", "score" },
        additionalProperties = false,
      },
    },
  }
end

--[[
judge.rubric{rubric = "rubrics/clarity.md" | rubric_text = "...", scale = {1, 10},
             field = "response", prompt_field = "prompt", reference_field = nil, model = nil,
             temperature = 0, max_tokens = 1024, timeout = nil, retries = nil,
             json_schema = true, system = nil} -> evidence
Score = (verdict - lo) / (hi - lo). The rubric file is read when the skill loads and is part of
the skill's sha256. An unparsable reply is asked again once; then status judge_failed with the
raw reply in the reason. A failed call is judge_failed with the transport's message and code.
]]
function judge.rubric(opts)
  local api = "judge.rubric"
  options.check(api, opts, RUBRIC_OPTS, 3)
  local rubric = opts.rubric_text
  if opts.rubric then
    if files.current() == nil then error(api .. ": rubric files are read while the skill loads", 2) end
    rubric = files.read(opts.rubric)
  end
  if not rubric then error(api .. ": give rubric = 'file.md' or rubric_text = '...'", 2) end
  local scale = opts.scale or { 1, 10 }
  local lo, hi = tonumber(scale[1]), tonumber(scale[2])
  if not lo or not hi or hi <= lo then error(api .. ": scale must be {low, high} with low < high", 2) end
  local field = opts.field or "response"
  local system = opts.system or string.format(
    "You are a careful, strict evaluator. Grade the response against the rubric. First write " ..
    "your reasoning, then the verdict. Reply with only a JSON object: " ..
    '{"reason": "<your reasoning>", "score": <integer from %d to %d>}.', lo, hi)
  local schema = opts.json_schema ~= false and score_schema(lo, hi) or nil
  -- The first request for a record (nil when the record lacks the response field).
  local function request(record)
    local response = options.field(record, field)
    if not response then return nil end
    local parts = { "# Rubric\n\n" .. rubric }
    local prompt = field_or_nil(record, opts.prompt_field or "prompt")
    if prompt then parts[#parts + 1] = "# Task given to the model\n\n" .. prompt end
    local reference = field_or_nil(record, opts.reference_field)
    if reference then parts[#parts + 1] = "# Reference answer\n\n" .. reference end
    parts[#parts + 1] = "# Response to grade\n\n" .. response
    local messages = {
      { role = "system", content = system },
      { role = "user", content = table.concat(parts, "\n\n") },
    }
    return { model = opts.model, messages = messages, temperature = opts.temperature or 0,
      max_tokens = opts.max_tokens or 1024, response_format = schema, timeout = opts.timeout,
      retries = opts.retries }
  end
  return {
    kind = "judge.rubric",
    describe = string.format("LLM judge, rubric %s, scale %g-%g, on '%s'",
      opts.rubric or "(inline)", lo, hi, field),
    prefetch = request, -- lets an aggregate send several judges' first calls together
    -- fetched: this record's first reply when a policy prefetched it (see evaluate.lua)
    run = function(record, _, fetched)
      local _, why = options.field(record, field)
      local req = request(record)
      if not req then return { status = "input_error", reason = why } end
      local messages = req.messages
      local reply, err, code
      if fetched then
        if fetched.error then reply, err, code = nil, fetched.error, fetched.code else reply = fetched end
      else
        reply, err, code = llm.chat(req)
      end
      if not reply then
        return { status = "judge_failed", reason = tostring(err) .. " (" .. tostring(code) .. ")" }
      end
      local s, reason = parse_score(reply.content, lo, hi)
      if not s then -- one re-ask, showing the model its own unparsable reply
        messages[#messages + 1] = { role = "assistant", content = reply.content or "" }
        messages[#messages + 1] = { role = "user", content = string.format(
          'Your reply could not be read. Reply with only {"reason": "...", "score": <integer %d-%d>}.',
          lo, hi) }
        local again, err2, code2 = llm.chat(req)
        if not again then
          return { status = "judge_failed", reason = tostring(err2) .. " (" .. tostring(code2) .. ")" }
        end
        s, reason = parse_score(again.content, lo, hi)
        if not s then
          return { status = "judge_failed",
            reason = "unparsable verdict after one re-ask; raw reply: "
              .. extract.clip(tostring(again.content), RAW_SHOWN) }
        end
      end
      return { score = (s - lo) / (hi - lo), status = "ok", reason = reason,
        detail = { verdict = s, scale = json.array { lo, hi } } }
    end,
  }
end

local PAIR_OPTS = {
  field_a = "string?", field_b = "string?", prompt_field = "string?", swap = "boolean?",
  rubric = "string?", rubric_text = "string?", model = "string?", temperature = "number?",
  max_tokens = "integer?", timeout = "number?", retries = "integer?", system = "string?",
}

-- The winner of a pairwise reply: the JSON key "winner", else the first "winner: X" line, else
-- the first [[A]] / [[B]] / [[Tie]] label ("A", "B" or "tie"; srm.verdicts' pair kind).
local WINNER_SPEC = { forms = { "json", "keys", "brackets" }, keys = { "winner" },
  labels = { "winner" }, occurrence = "first" }
local function parse_winner(text)
  return (verdicts.parse(text, "pair", WINNER_SPEC))
end
judge.parse_winner = parse_winner

local FLIP = { A = "B", B = "A", tie = "tie" }
local PAIR_SCORE = { A = 1, B = 0, tie = 0.5 }

--[[
judge.pairwise{field_a = "response_a", field_b = "response_b", prompt_field = "prompt",
               swap = true, rubric = nil | rubric_text = nil, model = nil, ...} -> evidence
Verdict "A", "B" or "tie" (score 1, 0, 0.5 for A). With swap, both orders are judged in one
batched round trip; the second verdict is flipped back, and disagreement is a tie.
]]
function judge.pairwise(opts)
  local api = "judge.pairwise"
  options.check(api, opts or {}, PAIR_OPTS, 3)
  opts = opts or {}
  local rubric = opts.rubric_text
  if opts.rubric then rubric = files.read(opts.rubric) end
  local fa, fb = opts.field_a or "response_a", opts.field_b or "response_b"
  local swap = opts.swap ~= false
  local system = opts.system or ("You are a careful, impartial judge. Compare two responses to " ..
    "the same task. Do not let their order or length sway you. First write your reasoning, then " ..
    'the verdict. Reply with only a JSON object: {"reason": "...", "winner": "A" | "B" | "tie"}.')
  local function messages(prompt, first, second)
    local parts = {}
    if rubric then parts[#parts + 1] = "# Criteria\n\n" .. rubric end
    if prompt then parts[#parts + 1] = "# Task\n\n" .. prompt end
    parts[#parts + 1] = "# Response A\n\n" .. first
    parts[#parts + 1] = "# Response B\n\n" .. second
    return { { role = "system", content = system }, { role = "user", content = table.concat(parts, "\n\n") } }
  end
  return {
    kind = "judge.pairwise",
    describe = string.format("LLM pairwise judge '%s' vs '%s'%s", fa, fb, swap and ", both orders" or ""),
    run = function(record)
      local a, why = options.field(record, fa)
      if not a then return { status = "input_error", reason = why } end
      local b, why2 = options.field(record, fb)
      if not b then return { status = "input_error", reason = why2 } end
      local prompt = field_or_nil(record, opts.prompt_field or "prompt")
      local base = { model = opts.model, temperature = opts.temperature or 0,
        max_tokens = opts.max_tokens or 1024, timeout = opts.timeout, retries = opts.retries }
      local reqs = { { messages = messages(prompt, a, b) } }
      if swap then reqs[2] = { messages = messages(prompt, b, a) } end
      for _, r in ipairs(reqs) do for k, v in pairs(base) do r[k] = v end end
      local replies = llm.batch(reqs)
      local per_order = {}
      for i, reply in ipairs(replies) do
        if reply.error then
          return { status = "judge_failed", reason = "order " .. i .. ": " .. reply.error .. " (" .. tostring(reply.code) .. ")" }
        end
        local w = parse_winner(reply.content)
        if not w then
          return { status = "judge_failed", reason = "order " .. i .. ": unparsable verdict; raw reply: "
            .. extract.clip(tostring(reply.content), RAW_SHOWN) }
        end
        per_order[i] = i == 2 and FLIP[w] or w
      end
      local verdict = per_order[1]
      local reason = "judged A vs B: " .. per_order[1]
      if swap then
        if per_order[2] ~= per_order[1] then verdict = "tie" end
        reason = string.format("A-first order: %s; B-first order (flipped back): %s; verdict %s",
          per_order[1], per_order[2], verdict)
      end
      return { score = PAIR_SCORE[verdict], status = "ok", reason = reason, verdict = verdict,
        detail = { orders = json.array(per_order) } }
    end,
  }
end

local LIST_OPTS = {
  field = "string?", prompt_field = "string?", gold = "string?", rubric = "string?",
  rubric_text = "string?", model = "string?", temperature = "number?", max_tokens = "integer?",
  timeout = "number?", retries = "integer?", system = "string?",
}

-- The candidates of a record: an array of strings in `field`.
local function candidates(record, field)
  local list = record[field]
  if type(list) ~= "table" or #list < 2 then
    return nil, "record has no array of at least two candidate strings in '" .. field .. "'"
  end
  for i, c in ipairs(list) do
    if type(c) ~= "string" then return nil, "candidate " .. i .. " in '" .. field .. "' is not a string" end
  end
  return list
end

--[[
judge.listwise{field = "responses", prompt_field = "prompt", gold = nil, rubric = nil |
               rubric_text = nil, model = nil, ...} -> evidence
The model picks the best of the candidates (an array of strings in `field`) and answers
{"reason", "best": <1-based index>}. The row's verdict is that index. With `gold` (a record
field holding the correct 1-based index), score 1 when the pick is right, else 0; without it the
evidence abstains (it picks, it does not score) and the pick is in `verdict` and `detail.best`.
]]
function judge.listwise(opts)
  local api = "judge.listwise"
  options.check(api, opts or {}, LIST_OPTS, 3)
  opts = opts or {}
  local rubric = opts.rubric_text
  if opts.rubric then rubric = files.read(opts.rubric) end
  local field = opts.field or "responses"
  local system = opts.system or ("You are a careful, impartial judge. Several candidate responses " ..
    "answer the same task. Do not let their order or length sway you. First write your reasoning, " ..
    'then pick the best one. Reply with only a JSON object: {"reason": "...", "best": <number>}.')
  return {
    kind = "judge.listwise",
    describe = string.format("LLM judge: best of the candidates in '%s'", field),
    run = function(record)
      local list, why = candidates(record, field)
      if not list then return { status = "input_error", reason = why } end
      local parts = {}
      if rubric then parts[#parts + 1] = "# Criteria\n\n" .. rubric end
      local prompt = field_or_nil(record, opts.prompt_field or "prompt")
      if prompt then parts[#parts + 1] = "# Task\n\n" .. prompt end
      for i, c in ipairs(list) do parts[#parts + 1] = "# Candidate " .. i .. "\n\n" .. c end
      local reply, err, code = llm.chat { model = opts.model, temperature = opts.temperature or 0,
        max_tokens = opts.max_tokens or 1024, timeout = opts.timeout, retries = opts.retries,
        messages = { { role = "system", content = system },
                     { role = "user", content = table.concat(parts, "\n\n") } } }
      if not reply then
        return { status = "judge_failed", reason = tostring(err) .. " (" .. tostring(code) .. ")" }
      end
      local doc = json_object(reply.content)
      -- the JSON key "best", else the first "best: N" line (a number or a letter)
      local best = verdicts.parse(reply.content, "index", { n = #list, forms = { "json", "keys" },
        keys = { "best" }, labels = { "best" }, occurrence = "first" })
      if not best then
        return { status = "judge_failed", reason = "no valid pick (1-" .. #list .. "); raw reply: "
          .. extract.clip(tostring(reply.content), RAW_SHOWN) }
      end
      local reason = doc and type(doc.reason) == "string" and doc.reason or ("picked " .. best)
      if not opts.gold then
        return { status = "abstain", verdict = best, reason = "picked candidate " .. best
          .. " (no gold field to score against)", detail = { best = best } }
      end
      local gold = math.tointeger(tonumber(record[opts.gold]))
      if not gold then
        return { status = "input_error", reason = "record has no integer gold index in '" .. opts.gold .. "'" }
      end
      return { score = best == gold and 1 or 0, status = "ok", verdict = best, reason = reason,
        detail = { best = best, gold = gold } }
    end,
  }
end

local CHECK_OPTS = {
  items = "table?", items_field = "string?", field = "string?", prompt_field = "string?",
  batch = "integer?", model = "string?", temperature = "number?", max_tokens = "integer?",
  timeout = "number?", retries = "integer?", system = "string?",
}

--[[
judge.checklist{items = {"...", ...} | items_field = "checklist", field = "response",
                prompt_field = "prompt", batch = 5, model = nil, ...} -> evidence
Each checklist item is judged pass/fail; `batch` items go in one call, and all calls of a record
go out together (llm.batch). The model answers {"results": [{"item": <number>, "pass": bool,
"reason": "..."}]}. Score = fraction of items passed; detail.items lists each verdict. A batch
whose reply lacks a verdict for one of its items makes the evidence judge_failed.
]]
function judge.checklist(opts)
  local api = "judge.checklist"
  options.check(api, opts, CHECK_OPTS, 3)
  if (opts.items == nil) == (opts.items_field == nil) then
    error(api .. ": give exactly one of items = {...} or items_field = '...'", 2)
  end
  local field = opts.field or "response"
  local k = opts.batch or 5
  if k < 1 then error(api .. ": option 'batch' must be at least 1", 2) end
  local system = opts.system or ("You are a strict grader. For each numbered checklist item, " ..
    "decide whether the response satisfies it. Reply with only a JSON object: " ..
    '{"results": [{"item": <number>, "reason": "...", "pass": true | false}, ...]}.')
  return {
    kind = "judge.checklist",
    describe = string.format("LLM checklist on '%s', %d items per call", field, k),
    run = function(record)
      local response, why = options.field(record, field)
      if not response then return { status = "input_error", reason = why } end
      local items = opts.items or record[opts.items_field]
      if type(items) ~= "table" or #items == 0 then
        return { status = "input_error", reason = "no checklist items in '" .. tostring(opts.items_field) .. "'" }
      end
      local prompt = field_or_nil(record, opts.prompt_field or "prompt")
      local reqs, ranges = {}, {}
      for first = 1, #items, k do
        local last = math.min(#items, first + k - 1)
        local lines = {}
        for i = first, last do lines[#lines + 1] = i .. ". " .. tostring(items[i]) end
        local parts = {}
        if prompt then parts[#parts + 1] = "# Task\n\n" .. prompt end
        parts[#parts + 1] = "# Response\n\n" .. response
        parts[#parts + 1] = "# Checklist\n\n" .. table.concat(lines, "\n")
        reqs[#reqs + 1] = { model = opts.model, temperature = opts.temperature or 0,
          max_tokens = opts.max_tokens or 1024, timeout = opts.timeout, retries = opts.retries,
          messages = { { role = "system", content = system },
                       { role = "user", content = table.concat(parts, "\n\n") } } }
        ranges[#ranges + 1] = { first, last }
      end
      local replies = llm.batch(reqs)
      local verdicts, passed = {}, 0
      for b, reply in ipairs(replies) do
        if reply.error then
          return { status = "judge_failed", reason = "call " .. b .. ": " .. reply.error .. " (" .. tostring(reply.code) .. ")" }
        end
        local doc = json_object(reply.content)
        local got = {}
        for _, r in ipairs(type(doc) == "table" and type(doc.results) == "table" and doc.results or {}) do
          local i = type(r) == "table" and math.tointeger(tonumber(r.item))
          if i and type(r.pass) == "boolean" then got[i] = r end
        end
        for i = ranges[b][1], ranges[b][2] do
          local r = got[i]
          if not r then
            return { status = "judge_failed", reason = "no verdict for checklist item " .. i
              .. "; raw reply: " .. extract.clip(tostring(reply.content), RAW_SHOWN) }
          end
          verdicts[i] = { pass = r.pass, reason = type(r.reason) == "string" and r.reason or nil }
          if r.pass then passed = passed + 1 end
        end
      end
      return { score = passed / #items, status = "ok",
        reason = string.format("%d of %d checklist items pass", passed, #items),
        detail = { items = json.array(verdicts) } }
    end,
  }
end

return judge
