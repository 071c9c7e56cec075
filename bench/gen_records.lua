-- Generates N synthetic GSM8K-style records for the throughput benchmarks:
--   srm lua bench/gen_records.lua N OUT.jsonl
-- Responses are ~400 bytes of reasoning ending "#### <n>"; about 1 in 3 is wrong, 1 in 10 has no
-- clean final line. Deterministic (fixed seed), so runs compare like for like.
local json = require "srm.json"
local n = assert(tonumber(arg[1]), "usage: gen_records.lua N OUT")
local out = assert(io.open(assert(arg[2], "usage: gen_records.lua N OUT"), "wb"))
math.randomseed(42)
local words = { "She", "has", "apples", "then", "buys", "more", "so", "the", "total", "is",
  "each", "box", "holds", "dollars", "per", "day", "and", "after", "giving", "away" }
local buf = {}
for i = 1, n do
  local parts = {}
  for j = 1, 60 do parts[j] = words[math.random(#words)] end
  local a, b = math.random(1, 999), math.random(1, 99)
  local gold = a * b
  local got = (i % 3 == 0) and gold + 1 or gold
  local tail = (i % 10 == 0) and " and then" or ("\n#### " .. got)
  buf[#buf + 1] = json.encode({
    id = i,
    question = "How many apples does she have after " .. a .. " boxes of " .. b .. "?",
    response = table.concat(parts, " ") .. " " .. a .. " * " .. b .. " = " .. got .. tail,
    answer = "#### " .. gold,
  })
  if #buf == 1000 then
    out:write(table.concat(buf, "\n"), "\n")
    buf = {}
  end
end
if #buf > 0 then out:write(table.concat(buf, "\n"), "\n") end
out:close()
