-- The protocol side of `srm serve` (runtime/srm_cmd_serve.c does HTTP): each request body
-- becomes a list of records (JSON lines the executor scores like `srm run` input), and the rows
-- come back as the protocol's response. Trusted host code, never visible to skills.
--
--   POST /v1/score    {"records": [...], "skill": name?}       -> {"rows": [...]}
--   POST /get_reward  {"query": [...], "prompts": [...], "labels": [...], ...} (OpenRLHF)
--                     -> {"rewards": [...], "scores": [...], "extra_logs": {...}}
--   POST /reward      {"prompt": ..., "response": ..., "label": ..., ...} (slime)
--                     -> {"reward": x, "score": x, "status": ..., "reason": ..., "row": {...}}
--
-- Rewards for trainers must be numbers, so a row that is not `ok` gives reward 0; its status
-- and reason are never dropped: they are in `extra_logs` (get_reward) or next to the reward.
local json = require "srm.json"

local M = {}

local MAX_RECORDS = 100000 -- per request; a larger batch is a 400, not an out-of-memory

local function fail(msg) return nil, msg end

local function encode_lines(records)
  local lines = {}
  for i, r in ipairs(records) do lines[i] = json.encode(r) end
  return lines
end

-- Copies the fields of t except those in skip into rec.
local function copy_extra(rec, t, skip)
  for k, v in pairs(t) do
    if not skip[k] and rec[k] == nil then rec[k] = v end
  end
end

local function score_request(doc)
  local records = doc.records
  if type(records) ~= "table" or (next(records) ~= nil and not json.is_array(records)) then
    return fail("'records' must be an array of objects")
  end
  if #records > MAX_RECORDS then return fail("at most " .. MAX_RECORDS .. " records per request") end
  for i, r in ipairs(records) do
    if type(r) ~= "table" or json.is_array(r) then
      return fail("records[" .. (i - 1) .. "] is not an object")
    end
    if r.id == nil then r.id = i - 1 end
  end
  if doc.skill ~= nil and type(doc.skill) ~= "string" then return fail("'skill' must be a string") end
  return encode_lines(records), doc.skill
end

-- OpenRLHF sends the full sequence (prompt + response) as `query`; the response is what
-- follows the prompt when the prompt is a prefix.
local function strip_prompt(query, prompt)
  if type(prompt) == "string" and prompt ~= "" and query:sub(1, #prompt) == prompt then
    return query:sub(#prompt + 1)
  end
  return query
end

local function get_reward_request(doc)
  local query = doc.query
  if type(query) == "string" then query = { query } end
  if type(query) ~= "table" or not json.is_array(query) then
    return fail("'query' must be a string or an array of strings")
  end
  local n = #query
  if n > MAX_RECORDS then return fail("at most " .. MAX_RECORDS .. " queries per request") end
  local per_item = {} -- other top-level arrays of the same length: one value per item
  for k, v in pairs(doc) do
    if k ~= "query" and type(v) == "table" and json.is_array(v) and #v == n then per_item[k] = v end
  end
  local skip = { query = true, prompts = true, labels = true, skill = true }
  for k in pairs(per_item) do skip[k] = true end
  local records = {}
  for i = 1, n do
    local q = query[i]
    if type(q) ~= "string" then return fail("query[" .. (i - 1) .. "] is not a string") end
    local prompts, labels = per_item.prompts, per_item.labels
    local prompt = prompts and prompts[i]
    local rec = { id = i - 1, query = q, prompt = prompt, response = strip_prompt(q, prompt),
      label = labels and labels[i] }
    for k, arr in pairs(per_item) do
      if k ~= "prompts" and k ~= "labels" and rec[k] == nil then rec[k] = arr[i] end
    end
    copy_extra(rec, doc, skip) -- other fields are the same for every item
    records[i] = rec
  end
  if doc.skill ~= nil and type(doc.skill) ~= "string" then return fail("'skill' must be a string") end
  return encode_lines(records), doc.skill
end

local function reward_request(doc)
  if json.is_array(doc) then return fail("expected one object {prompt, response, label}") end
  if type(doc.response) ~= "string" then return fail("'response' must be a string") end
  local rec = { id = 0 }
  copy_extra(rec, doc, { skill = true })
  if doc.skill ~= nil and type(doc.skill) ~= "string" then return fail("'skill' must be a string") end
  return encode_lines { rec }, doc.skill
end

local EXPANDERS = { score = score_request, get_reward = get_reward_request, reward = reward_request }

-- expand(kind, body) -> lines, skill_name | nil, message (a 400 for the client)
function M.expand(kind, body)
  local doc, err = json.decode(body)
  if doc == nil and err then return fail("the body is not JSON: " .. err) end
  if type(doc) ~= "table" then return fail("the body must be a JSON object") end
  return EXPANDERS[kind](doc)
end

local function reward_of(row)
  if row.status == "ok" and type(row.score) == "number" then return row.score end
  return 0.0
end

-- respond(kind, rows) -> body, llm_calls, cache_hits
-- rows: the row JSON texts in request order (as srm run writes them).
function M.respond(kind, rows)
  local decoded, calls, hits = {}, 0, 0
  local body = nil
  if kind == "score" then body = '{"rows":[' .. table.concat(rows, ",") .. "]}" end -- rows as written
  for i, text in ipairs(rows) do
    local row = json.decode(text) or { status = "internal_error", reason = "unreadable row" }
    decoded[i] = row
    local u = type(row.usage) == "table" and row.usage or {}
    calls = calls + (tonumber(u.llm_calls) or 0)
    hits = hits + (tonumber(u.cache_hits) or 0)
  end
  if body then return body, calls, hits end
  if kind == "get_reward" then
    local rewards, statuses, reasons, failed = {}, {}, {}, 0
    for i, row in ipairs(decoded) do
      rewards[i] = reward_of(row)
      statuses[i] = row.status
      reasons[i] = row.status == "ok" and "" or tostring(row.reason or "")
      if row.status ~= "ok" then failed = failed + 1 end
    end
    local out = { rewards = json.array(rewards), scores = json.array(rewards),
      extra_logs = { srm_status = json.array(statuses), srm_reason = json.array(reasons),
        srm_failed = failed } }
    return json.encode(out), calls, hits
  end
  local row = decoded[1]
  local out = { reward = reward_of(row), score = reward_of(row), status = row.status,
    reason = row.reason, row = row }
  return json.encode(out), calls, hits
end

return M
