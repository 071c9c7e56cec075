-- The math core alone: srm.math.extract + srm.math.equal over a JSONL file of {response,
-- answer} records, in one Lua state (no scheduler, no output rows). Prints "pairs equal".
--   srm lua bench/math_core.lua DATA.jsonl
local json = require "srm.json"
local smath = require "srm.math"
local n, equal = 0, 0
for line in assert(io.open(assert(arg[1], "usage: math_core.lua DATA"), "rb")):lines() do
  local r = json.decode(line)
  local want = smath.extract(r.answer) or r.answer
  local got = smath.extract(r.response)
  if got and smath.equal(want, got) then equal = equal + 1 end
  n = n + 1
end
print(n, equal)
