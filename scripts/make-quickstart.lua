-- Derives examples/quickstart/gsm8k_sample.jsonl from the shared GSM8K model solutions.
-- Run from the project root: ./build/srm lua scripts/make-quickstart.lua
local json = require "srm.json"
local src = "../shared/data/gsm8k/example_model_solutions.jsonl"
local out = assert(io.open("examples/quickstart/gsm8k_sample.jsonl", "wb"))
local n = 0
for line in io.lines(src) do
  n = n + 1
  if n > 25 then break end
  local r = assert(json.decode(line))
  for _, k in ipairs({ "6b_finetuning", "175b_verification" }) do
    out:write(json.encode({
      id = "q" .. n .. "-" .. k, question = r.question, response = r[k].solution,
      answer = r.ground_truth, is_correct = r[k].is_correct,
    }), "\n")
  end
end
out:close()
