-- Generates N {id, response, answer} records for the math benchmark from the MATH-500 answers:
--   srm lua bench/gen_math_pairs.lua N OUT.jsonl [math500_test.jsonl]
-- Each gold answer appears with a perturbed response: the same answer, a restyled one (\dfrac,
-- \left( \right), spacing, "The final answer is ..."), a decimal for a plain fraction, or a
-- wrong one (a number changed, a tuple reversed). About 40% are wrong. Deterministic.
local json = require "srm.json"
local n = assert(tonumber(arg[1]), "usage: gen_math_pairs.lua N OUT [MATH500]")
local out = assert(io.open(assert(arg[2], "usage: gen_math_pairs.lua N OUT [MATH500]"), "wb"))
local src = arg[3] or "../shared/data/math/math500_test.jsonl"
local answers = {}
for line in assert(io.open(src, "rb")):lines() do
  answers[#answers + 1] = assert(json.decode(line)).answer
end
math.randomseed(7)
local filler = "We first simplify the expression, then substitute the known values and check the "
  .. "boundary cases; every step keeps the equation balanced. "

local function perturb(a, k)
  if k == 0 then return a, true end
  if k == 1 then return (a:gsub("\\frac", "\\dfrac"):gsub(",", ",\\,")), true end
  if k == 2 then return "\\left(" .. a .. "\\right)", not a:find(",") end
  if k == 3 then
    local p, q = a:match("^\\frac{(%d+)}{(%d+)}$")
    if p then return string.format("%.10f", tonumber(p) / tonumber(q)), true end
    return a .. " ", true
  end
  if k == 4 then -- change the first number
    local changed, c = a:gsub("%d+", function(d) return tostring(tonumber(d) + 1) end, 1)
    if c > 0 then return changed, false end
    return a .. "+1", false
  end
  if k == 5 and a:find(",") then -- reverse a comma list
    local items = {}
    for item in a:gmatch("[^,]+") do table.insert(items, 1, item) end
    return table.concat(items, ","), nil
  end
  return a .. "2", false
end

local buf = {}
for i = 1, n do
  local gold = answers[(i - 1) % #answers + 1]
  local k = math.random(0, 5)
  local ans = perturb(gold, k)
  local response
  if i % 4 == 0 then
    response = filler .. "Final Answer: The final answer is $" .. ans .. "$. I hope it is correct."
  else
    response = filler .. filler .. "Therefore the answer is $\\boxed{" .. ans .. "}$."
  end
  buf[#buf + 1] = json.encode({ id = i, response = response, answer = gold })
  if #buf == 1000 then
    out:write(table.concat(buf, "\n"), "\n")
    buf = {}
  end
end
if #buf > 0 then out:write(table.concat(buf, "\n"), "\n") end
out:close()
