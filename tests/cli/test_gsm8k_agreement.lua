-- Acceptance: all 5,276 labelled solutions of OpenAI's GSM8K example_model_solutions.jsonl,
-- flattened to {id, question, response, answer, is_correct}; skills/gsm8k.lua must agree with
-- is_correct on every one. The same checker must flag a deliberately wrong skill.
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")
local json = require "srm.json"

local SRC = "tests/data/gsm8k/example_model_solutions.jsonl"
local KINDS = { "6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification" }

local dir = C.tmpdir("gsm8k")
local data = dir .. "/flat.jsonl"
local labels = {}
do
  local f = io.open(SRC, "rb")
  if not f then
    io.stderr:write("SKIPPED: ", SRC, " is missing (the shared conformance data)\n")
    os.exit(77)
  end
  local out = assert(io.open(data, "wb"))
  local n = 0
  for line in f:lines() do
    n = n + 1
    local r = assert(json.decode(line))
    for _, k in ipairs(KINDS) do
      local id = n .. ":" .. k
      labels[id] = r[k].is_correct
      out:write(json.encode({ id = id, question = r.question, response = r[k].solution,
        answer = r.ground_truth, is_correct = r[k].is_correct }), "\n")
    end
  end
  f:close()
  out:close()
end

-- Returns the number of records, disagreements and a few examples.
local function disagreements(skill)
  local out = dir .. "/" .. skill:match("([^/]+)%.lua$") .. ".jsonl"
  local code, _, err = C.srm({ "run", skill, data, "-o", out, "--overwrite", "--no-progress" }, dir)
  T.eq(code, 0, "srm run exit (" .. err .. ")")
  local rows = C.read_rows(out)
  local bad, examples = 0, {}
  for _, r in ipairs(rows) do
    local verdict = r.status == "ok" and r.score == 1
    if verdict ~= labels[r.id] then
      bad = bad + 1
      if #examples < 5 then examples[#examples + 1] = r.id .. " (" .. tostring(r.reason) .. ")" end
    end
  end
  return #rows, bad, examples
end

T.case("skills/gsm8k.lua agrees with is_correct on all 5,276 solutions", function()
  local n, bad, examples = disagreements("skills/gsm8k.lua")
  T.eq(n, 5276, "rows")
  T.eq(bad, 0, "disagreements: " .. table.concat(examples, "; "))
end)

T.case("the checker catches a wrong skill", function()
  local n, bad = disagreements("tests/data/skills/gsm8k_inverted.lua")
  T.eq(n, 5276, "rows")
  T.truthy(bad > 5000, "an inverted skill disagrees almost everywhere (got " .. bad .. ")")
end)

T.done()
