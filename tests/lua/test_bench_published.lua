-- srm eval's JudgeBench metric reproduces the published scores of the seven recorded judges in
-- ../shared/data/judgebench/outputs/ (issue 8 acceptance check), and the RM-Bench loader expands
-- the four shared RM-Bench files. Skips (exit 77) when ../shared/data is missing.
local T = dofile("tests/lua/testlib.lua")
local E = require "srm.bench.eval"
local C = require "srm.bench.common"

local DIR = "../shared/data/judgebench/outputs/"
if not T.exists(DIR .. "gpt-4o-2024-05-13__arena_hard__o1-mini-2024-09-12.jsonl") then
  print("SKIPPED: test_bench_published needs ../shared/data/judgebench (not next to the checkout)")
  os.exit(77)
end

-- overall / mmlu-pro / livebench-reasoning / livebench-math / livecodebench, as published
local PUBLISHED = {
  ["claude-3-5-sonnet-20240620__arena_hard__claude-3-haiku-20240307"] = { 32.22, 37.66, 29.41, 32.35, 9.68 },
  ["gpt-4o-2024-05-13__arena_hard__o1-mini-2024-09-12"] = { 65.71, 58.44, 62.24, 82.14, 78.57 },
  ["gpt-4o-2024-05-13__reward_model__Ray2333_GRM-Gemma-2B-rewardmodel-ft"] = { 59.43, 62.99, 53.06, 64.29, 54.76 },
  ["gpt-4o-2024-05-13__reward_model__Skywork_Skywork-Reward-Gemma-2-27B"] = { 64.29, 59.74, 66.33, 83.93, 50.00 },
  ["gpt-4o-2024-05-13__reward_model__Skywork_Skywork-Reward-Llama-3.1-8B"] = { 62.29, 59.09, 64.29, 76.79, 50.00 },
  ["gpt-4o-2024-05-13__reward_model__internlm_internlm2-20b-reward"] = { 63.43, 62.34, 69.39, 66.07, 50.00 },
  ["gpt-4o-2024-05-13__reward_model__internlm_internlm2-7b-reward"] = { 59.43, 56.49, 61.22, 71.43, 50.00 },
}

for name, want in pairs(PUBLISHED) do
  T.case("JudgeBench published scores: " .. name, function()
    local m = E.evaluate("judgebench", E.read_predictions(DIR .. name .. ".jsonl"))
    local got = { m.score }
    for _, c in ipairs({ "mmlu-pro", "livebench-reasoning", "livebench-math", "livecodebench" }) do
      got[#got + 1] = m.by_source[c].score
    end
    for i = 1, 5 do T.near(got[i], want[i], 0.005, name .. " column " .. i) end
  end)
end

T.case("the shared RM-Bench files expand into 9 comparisons per sample", function()
  local counts = { chat_filtered = 129, code_filtered = 228, ["safety-refuse_filtered"] = 284,
    ["safety-response_filtered"] = 157 }
  for stem, n in pairs(counts) do
    local path = "../shared/data/rmbench/" .. stem .. ".json"
    local tasks = E.expand_records("rmbench", C.read_records(path), { seed = 1, path = path })
    T.eq(#tasks, 9 * n, stem)
    T.eq(tasks[1].bench.domain, stem:match("^(%a+)"), stem .. " domain")
  end
end)

T.done()
