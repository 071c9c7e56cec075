-- Synthetic rows for bench/run_report.sh: N rows shaped like srm run's (3 components, a pairwise
-- judge with both orders that favours long responses, 2 skill generations, about 8% failures) and
-- the matching input records.
-- Usage: srm lua bench/gen_report_rows.lua N ROWS.jsonl DATA.jsonl
local json = require "srm.json"
local n, rows_path, data_path = tonumber(arg[1]), arg[2], arg[3]
assert(n and rows_path and data_path, "usage: gen_report_rows.lua N ROWS DATA")
local rows, data = assert(io.open(rows_path, "wb")), assert(io.open(data_path, "wb"))
math.randomseed(42)
local STATUS = { "abstain", "judge_failed", "timeout", "skill_error" }
local words = "the quick brown fox jumps over the lazy dog and keeps running "
local rbuf, dbuf = {}, {}
for i = 1, n do
  local id = "r" .. i
  local len = math.random(1, 40)
  local response = words:rep(len // 4 + 1):sub(1, len * 12) .. " \\boxed{" .. i .. "}"
  dbuf[#dbuf + 1] = json.encode({ id = id, prompt = "question " .. i, response = response, answer = tostring(i) })
  local gen = i <= n // 2 and 1 or 2
  local bias = gen == 1 and 0.6 or 0.1 -- generation 2's rubric mostly fixed the length bias
  local o1 = math.random() < 0.5 - bias / 2 + bias * len / 40 and "A" or "B"
  local o2 = math.random() < 0.9 and o1 or (o1 == "A" and "B" or "A")
  local judge = o1 == o2 and (o1 == "A" and 1 or 0) or 0.5
  local answer = math.random() < 0.7 and 1 or 0
  local format = math.random() < 0.9 and 1 or 0
  local status = "ok"
  if math.random() < 0.08 then status = STATUS[math.random(#STATUS)] end
  local row = { id = id, status = status,
    components = {
      answer = { score = answer, status = "ok", reason = answer == 1 and "numbers agree" or "numbers differ",
        detail = { extracted = tostring(i), expected = tostring(i) } },
      format = { score = format, status = "ok", reason = "matches the pattern" },
      judge = { score = judge, status = "ok", reason = "A-first order: " .. o1 .. "; B-first order: " .. o2,
        detail = { orders = json.array({ o1, o2 }) } },
    },
    skill = { name = "bench_mixed", sha256 = gen == 1 and ("ab"):rep(32) or ("cd"):rep(32), generation = gen },
    usage = { llm_calls = 2, prompt_tokens = 400 + len, completion_tokens = 40, cache_hits = i % 5 == 0 and 2 or 0, retries = 0 },
    latency_ms = math.floor(math.random() * 2000 * 10) / 10 }
  if status == "ok" then
    row.score = (answer + format + judge) / 3
    row.reason = "mean of answer, format, judge"
  else
    row.reason = status .. " on record " .. (i % 17)
  end
  rbuf[#rbuf + 1] = json.encode(row)
  if #rbuf == 10000 then
    rows:write(table.concat(rbuf, "\n"), "\n")
    data:write(table.concat(dbuf, "\n"), "\n")
    rbuf, dbuf = {}, {}
  end
end
if #rbuf > 0 then
  rows:write(table.concat(rbuf, "\n"), "\n")
  data:write(table.concat(dbuf, "\n"), "\n")
end
rows:close()
data:close()
