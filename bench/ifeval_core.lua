-- The IFEval core alone: srm.ifeval.check (strict + loose) on every instruction of the 541 GPT-4
-- responses of ../shared/data/ifeval, repeated to N responses (default 20000), in one Lua state
-- (no scheduler, no JSON rows), after one untimed warm-up pass. Prints
-- "responses instructions seconds responses/s".
--   srm lua bench/ifeval_core.lua [N [VERDICTS_OUT]]
-- VERDICTS_OUT, when given, receives one line per response of the first 541 with its strict and
-- loose verdicts (for comparing two builds).
local json = require "srm.json"
local ifeval = require "srm.ifeval"
local n = tonumber(arg[1] or "20000")
local D = "../shared/data/ifeval/"
local inputs, responses = {}, {}
for line in io.lines(D .. "input_data.jsonl") do inputs[#inputs + 1] = json.decode(line) end
for line in io.lines(D .. "responses_gpt4.jsonl") do responses[#responses + 1] = json.decode(line) end
assert(#inputs == #responses and #inputs > 0, "input and response files differ in length")
local recs = {}
for i, d in ipairs(inputs) do
  local kw = {}
  for k = 1, #d.instruction_id_list do
    local t = {}
    for key, v in pairs(d.kwargs[k] or {}) do
      if v ~= json.null then t[key] = v end
    end
    kw[k] = t
  end
  recs[i] = { ids = d.instruction_id_list, kwargs = kw, response = responses[i].response }
end

local out = arg[2] and assert(io.open(arg[2], "wb"))
local check = ifeval.check
-- warm-up, not timed: loads the langdetect profiles and compiles the fixed patterns (once per
-- process in a real run)
for _, r in ipairs(recs) do
  for k = 1, #r.ids do check(r.ids[k], r.kwargs[k], r.response) end
end
local ninst = 0
local t0 = os.clock()
for i = 1, n do
  local r = recs[(i - 1) % #recs + 1]
  local ids, kw, resp = r.ids, r.kwargs, r.response
  local line = out and i <= #recs and {}
  for k = 1, #ids do
    local s, l = check(ids[k], kw[k], resp)
    if s == nil then error(ids[k] .. ": " .. tostring(l)) end
    if line then line[#line + 1] = (s and "1" or "0") .. (l and "1" or "0") end
  end
  ninst = ninst + #ids
  if line then out:write(i, " ", table.concat(line, " "), "\n") end
end
local dt = os.clock() - t0
if out then out:close() end
print(string.format("%d %d %.3f %.0f", n, ninst, dt, n / dt))
