-- srm.resources: the resources a skill declares for the agent judge (srm.policy.agent), and the
-- per-record resources built from record fields.
--
-- A resource card is {id, type, description, cost, hard_or_soft, visible, settings, body}, the
-- body being one of file = "x.md" (read at load, part of the stamp), text = "...", fn =
-- function(record, ctx, args) (a Lua function), evidence = name | item (run by run_resource) or
-- field = "record.path" (a per-record resource: the record's value at that path). Cards are
-- checked completely when the skill loads (srm.skill calls check). Record values reach the
-- judge only through the blocked-key sanitizer: keys such as chosen, label, gold, winner or
-- score (BLOCKED_KEYS) are removed from everything the agent can see.
local files = require "srm.files"
local json = require "srm.json"
local options = require "srm.options"

local M = {}

M.TYPES = {
  rubric = true, principle = true, reference = true, checklist = true, verifier = true,
  tool = true, calibration = true, aggregation = true, output_contract = true, metadata = true,
}

-- Settings presets a card may be limited to (see docs/agent.md).
M.SETTINGS = {
  baseline = true, skill_fair = true, skill_operational = true, flat_prompt = true,
  tool_only = true,
}

-- Record keys that carry labels or scores. A key is blocked when, lower-cased, it equals one of
-- these or starts with "<key>_" or ends with "_<key>" (gold_answer, chosen_model, is_correct...).
M.BLOCKED_KEYS = {
  "chosen", "rejected", "label", "labels", "winner", "score", "scores", "gold", "answer_key",
  "preference", "preferred", "bench", "verdict", "rating", "ratings", "ranking", "rank",
  "correct", "is_correct", "ground_truth_label", "human_preference", "outcome", "reward",
}

local CARD = {
  id = "string?", type = "string", description = "string?", cost = "number|string?",
  hard_or_soft = "string?", visible = "function|string?", settings = "table?", file = "string?",
  text = "string?", fn = "function?", evidence = "string|table?", field = "string?",
}

local BODIES = { "file", "text", "fn", "evidence", "field" }

-- blocked_set(list) -> set used by is_blocked
function M.blocked_set(list)
  local set = {}
  for _, k in ipairs(list or M.BLOCKED_KEYS) do set[k:lower()] = true end
  return set
end

-- Is the record key blocked by the set? (exact, "key_..." or "..._key", case-insensitive)
function M.is_blocked(set, key)
  if type(key) ~= "string" then return false end
  local k = key:lower()
  if set[k] then return true end
  local head = k:match("^([^_]+)_")
  if head and set[head] then return true end
  local tail = k:match("_([^_]+)$")
  if tail and set[tail] then return true end
  -- two-word keys such as answer_key inside longer names: gold_answer_key
  for name in pairs(set) do
    if name:find("_", 1, true) and (k:sub(1, #name + 1) == name .. "_"
        or k:sub(-#name - 1) == "_" .. name) then
      return true
    end
  end
  return false
end

-- sanitize(value, set) -> a deep copy without blocked keys (tables nested at most 32 deep;
-- deeper parts are dropped). Arrays keep their elements; json.null stays.
function M.sanitize(value, set, depth)
  depth = depth or 0
  if type(value) ~= "table" or value == json.null then return value end
  if depth >= 32 then return nil end
  local out = {}
  for k, v in pairs(value) do
    if not M.is_blocked(set, k) then out[k] = M.sanitize(v, set, depth + 1) end
  end
  if json.is_array(value) then out = json.array(out) end
  return out
end

-- The value at a field path ("a.b"), any type; nil when absent or JSON null.
function M.field_value(record, path)
  if type(record) ~= "table" then return nil end
  local v = record[path]
  if v == nil and path:find(".", 1, true) then
    v = record
    for part in path:gmatch("[^.]+") do
      if type(v) ~= "table" then return nil end
      v = v[part]
    end
  end
  if v == json.null then return nil end
  return v
end

-- check(list, evidence, fail) -> array of cards, in declaration order (a map {id = card} is
-- taken in sorted id order). fail(msg, level, token) raises at the skill's line (srm.skill).
function M.check(list, evidence, fail)
  if list == nil then return {} end
  local cards, seen = {}, {}
  local keys = {}
  for k in pairs(list) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    if type(a) == type(b) then return a < b end
    return type(a) == "number"
  end)
  for _, key in ipairs(keys) do
    local c = list[key]
    local label = "resource " .. tostring(key)
    if type(c) ~= "table" then fail(label .. " must be a table (a resource card)", 2, "resources") end
    local ok, err = pcall(options.check, "srm.skill " .. label, c, CARD, 0)
    if not ok then fail((tostring(err):gsub("^srm%.skill ", "")), 2, "resources") end
    local id = c.id
    if type(key) == "string" then
      if id ~= nil and id ~= key then fail(label .. ": id '" .. id .. "' differs from its key", 2, key) end
      id = key
    end
    if type(id) ~= "string" or not id:match("^[%w_.%-]+$") then
      fail(label .. " needs an id of letters, digits, '_', '-' or '.'", 2, "resources")
    end
    label = "resource '" .. id .. "'"
    if seen[id] then fail(label .. " is declared twice", 2, id) end
    seen[id] = true
    if not M.TYPES[c.type] then
      local names = {}
      for t in pairs(M.TYPES) do names[#names + 1] = t end
      table.sort(names)
      fail(label .. ": unknown type '" .. tostring(c.type) .. "' (types: " .. table.concat(names, ", ") .. ")", 2, id)
    end
    local hs = c.hard_or_soft or "soft"
    if hs ~= "hard" and hs ~= "soft" then fail(label .. ": hard_or_soft must be \"hard\" or \"soft\"", 2, id) end
    local body
    for _, b in ipairs(BODIES) do
      if c[b] ~= nil then
        if body then fail(label .. ": give one body, not both '" .. body .. "' and '" .. b .. "'", 2, id) end
        body = b
      end
    end
    if not body then fail(label .. " needs a body: file, text, fn, evidence or field", 2, id) end
    for _, s in ipairs(c.settings or {}) do
      if not M.SETTINGS[s] then fail(label .. ": unknown setting '" .. tostring(s) .. "'", 2, id) end
    end
    local card = {
      id = id, type = c.type, description = c.description or "", cost = c.cost or 1,
      hard_or_soft = hs, visible = c.visible, settings = c.settings, body = body,
    }
    if body == "file" then
      if not files.current() then fail(label .. ": file bodies are read while the skill loads", 2, id) end
      card.text = files.read(c.file)
      card.file = c.file
    elseif body == "text" then
      card.text = c.text
    elseif body == "fn" then
      card.fn = c.fn
    elseif body == "field" then
      card.field = c.field
    else
      local item = c.evidence
      if type(item) == "string" then
        item = evidence[c.evidence]
        if not item then fail(label .. ": no evidence named '" .. c.evidence .. "'", 2, id) end
        card.evidence_name = c.evidence
      elseif type(item.run) ~= "function" then
        fail(label .. ": evidence must be an evidence name or an item with run", 2, id)
      end
      card.evidence = item
    end
    -- Viewing shows text; running runs evidence, or a function of a verifier or tool.
    card.runnable = body == "evidence" or (body == "fn" and (c.type == "verifier" or c.type == "tool"))
    cards[#cards + 1] = card
  end
  return cards
end

return M
