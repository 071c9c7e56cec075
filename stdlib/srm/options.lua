-- srm.options: validation of the option tables that the stdlib constructors take, and the
-- record-field lookup they share.
--
-- A schema maps option names to type names: "string", "number", "integer", "boolean",
-- "table", "function", "any", or alternatives joined by "|" ("string|table"). A trailing "?"
-- marks the option optional. The key "..." (if present) gives the type of the positional
-- entries opts[1..n]; without it a positional entry is an error like an unknown name.
--
-- Errors are raised with error(msg, level). Levels count as in error(): 1 is the checking
-- function itself, 2 the constructor that called it, 3 (the default) the skill code that
-- called the constructor, so the message starts with the skill's file:line.
local options = {}

local articles = {
  integer = "an integer",
  any = "any value",
}

local function article(typename)
  return articles[typename] or ("a " .. typename)
end

-- "string|table" -> "a string or table"
local function expected_text(spec)
  local parts = {}
  for alt in spec:gmatch("[^|]+") do parts[#parts + 1] = alt end
  if #parts == 1 then return article(parts[1]) end
  local last = table.remove(parts)
  return article(parts[1]):match("^(%a+ )") .. table.concat(parts, ", ") .. " or " .. last
end

local known_types = {
  string = true, number = true, integer = true, boolean = true, table = true,
  ["function"] = true, any = true,
}

local function matches_one(value, typename)
  if typename == "any" then return value ~= nil end
  if typename == "integer" then return math.type(value) == "integer"
    or (math.type(value) == "float" and value == math.floor(value) and value == value
        and math.abs(value) < 2^53)
  end
  return type(value) == typename
end

-- Parses "string|table?" into (alternatives, optional); raises on an unknown type name (a bug
-- in the calling module, not in the skill, so it points at the schema's owner).
local parsed_specs = {} -- spec string -> {alts, optional, bare}; schemas are few and fixed

local function parse_spec_uncached(spec)
  local optional = false
  if spec:sub(-1) == "?" then
    optional = true
    spec = spec:sub(1, -2)
  end
  local alts = {}
  for alt in spec:gmatch("[^|]+") do
    if not known_types[alt] then
      error("srm.options: unknown type name '" .. alt .. "' in schema", 3)
    end
    alts[#alts + 1] = alt
  end
  if #alts == 0 then error("srm.options: empty type in schema", 3) end
  return alts, optional, spec
end

-- Memoized: option checks run on hot paths (once per record for some helpers).
local function parse_spec(spec)
  local p = parsed_specs[spec]
  if not p then
    p = table.pack(parse_spec_uncached(spec))
    parsed_specs[spec] = p
  end
  return p[1], p[2], p[3]
end

local function matches(value, alts)
  for _, alt in ipairs(alts) do
    if matches_one(value, alt) then return true end
  end
  return false
end

-- What a wrong value is, for messages: "number", "nil", "non-integer number".
local function got_text(value, alts)
  if math.type(value) == "float" then
    for _, alt in ipairs(alts) do
      if alt == "integer" then return "non-integer number" end
    end
  end
  return type(value)
end

local function sorted_keys(t)
  local names, others = {}, {}
  for k in pairs(t) do
    if type(k) == "string" then names[#names + 1] = k else others[#others + 1] = k end
  end
  table.sort(names)
  return names, others
end

--[[
options.check(api_name, opts, schema [, level]) -> opts
Raises "<api_name>: unknown option 'x'", "<api_name>: option 'x' must be a string, got number"
or "<api_name>: missing required option 'x'". Unknown options are reported before type errors,
and each kind in sorted name order, so the message does not depend on table iteration order.
]]
-- schema table -> {specs = {name = alts}, required = {names}}; schemas are module constants, so
-- valid option tables (the per-request case, e.g. llm.chat) pass in one pass over their keys.
local compiled = setmetatable({}, { __mode = "k" })

local function compile(schema)
  local c = { specs = {}, required = {} }
  for k, spec in pairs(schema) do
    local alts, optional = parse_spec(spec)
    c.specs[k] = alts
    if not optional and k ~= "..." then c.required[#c.required + 1] = k end
  end
  compiled[schema] = c
  return c
end

local function quick_ok(opts, schema)
  if type(opts) ~= "table" or schema["..."] then return false end
  local c = compiled[schema] or compile(schema)
  local specs = c.specs
  for k, v in next, opts do
    local alts = specs[k]
    if not alts or not matches(v, alts) then return false end
  end
  for _, k in ipairs(c.required) do
    if opts[k] == nil then return false end
  end
  return true
end

function options.check(api_name, opts, schema, level)
  if quick_ok(opts, schema) then return opts end
  -- Something is wrong: find it and report it deterministically (sorted names).
  level = (level or 3) + 1 -- one more: the errors below are raised from a nested function
  local function fail(msg) error(api_name .. ": " .. msg, level) end
  if type(opts) ~= "table" then fail("expected an option table, got " .. type(opts)) end
  local names, others = sorted_keys(opts)
  for _, k in ipairs(names) do
    if schema[k] == nil or k == "..." then fail("unknown option '" .. k .. "'") end
  end
  local n = #opts
  local positional = schema["..."]
  for _, k in ipairs(others) do
    if math.type(k) ~= "integer" or k < 1 or k > n then
      fail("unexpected key " .. tostring(k) .. " in the option table")
    end
    if not positional then fail("unexpected positional argument #" .. k) end
  end
  if positional then
    local alts, _, spec = parse_spec(positional)
    for i = 1, n do
      if not matches(opts[i], alts) then
        fail("argument #" .. i .. " must be " .. expected_text(spec) .. ", got "
          .. got_text(opts[i], alts))
      end
    end
  end
  local schema_names = sorted_keys(schema)
  for _, k in ipairs(schema_names) do
    if k ~= "..." then
      local alts, optional, spec = parse_spec(schema[k])
      local v = opts[k]
      if v == nil then
        if not optional then fail("missing required option '" .. k .. "'") end
      elseif not matches(v, alts) then
        fail("option '" .. k .. "' must be " .. expected_text(spec) .. ", got "
          .. got_text(v, alts))
      end
    end
  end
  return opts
end

--[[
options.check_type(api_name, what, value, typename [, level]) -> value
Raises "<api_name>: <what> must be a string, got number" unless value has the type
(same type names as a schema, "?" allows nil).
]]
function options.check_type(api_name, what, value, typename, level)
  -- Fast paths: helpers call this per record.
  if type(value) == typename then return value end
  if value == nil and typename:byte(-1) == 63 then return nil end -- "...?" allows nil
  if typename == "integer" and math.type(value) == "integer" then return value end
  level = level or 3
  local alts, optional, spec = parse_spec(typename)
  if value == nil and optional then return value end
  if not matches(value, alts) then
    error(api_name .. ": " .. what .. " must be " .. expected_text(spec) .. ", got "
      .. got_text(value, alts), level)
  end
  return value
end

--[[
options.check_path(api_name, what, path [, level]) -> path
A record field name: a non-empty string whose dot-separated parts are non-empty ("meta.answer").
]]
function options.check_path(api_name, what, path, level)
  level = level or 3
  if type(path) ~= "string" then
    error(api_name .. ": " .. what .. " must be a string, got " .. type(path), level)
  end
  if path == "" or path:sub(1, 1) == "." or path:sub(-1) == "." or path:find("..", 1, true) then
    error(api_name .. ": " .. what .. " '" .. path .. "' is not a field name or dotted path", level)
  end
  return path
end

--[[
options.field(record, path) -> string | nil, reason
The string at path in record. A key that contains the dots literally wins; otherwise the path
is walked part by part ("meta.answer" is record.meta.answer). Missing fields and non-strings
give nil and "record has no string field '<path>'".
]]
function options.field(record, path)
  if type(record) ~= "table" then return nil, "record is not a table" end
  local v = record[path]
  if v == nil and path:find(".", 1, true) then
    v = record
    for part in path:gmatch("[^.]+") do
      if type(v) ~= "table" then
        v = nil
        break
      end
      v = v[part]
    end
  end
  if type(v) ~= "string" then return nil, "record has no string field '" .. path .. "'" end
  return v
end

return options
