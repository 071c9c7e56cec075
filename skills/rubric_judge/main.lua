-- A pointwise rubric judge: several weighted criteria, reasons before ratings, and penalty
-- criteria with negative weights. The weighting is a deterministic tool resource, so the
-- arithmetic never depends on the model.
local srm = require "srm"

local WEIGHTS = { accuracy = 3, relevance = 2, clarity = 1, fabrication = -2, unsafe = -3 }

-- Weighted mean of the positive criteria (ratings 1-5 -> 0-1) minus the penalties (0-5 -> 0-1,
-- times the weight, over the positive weight sum), clamped to [0, 1] and mapped onto 1-10.
local function weighted(_, _, args)
  local ratings = type(args) == "table" and args.ratings
  if type(ratings) ~= "table" then return { status = "input_error", reason = "pass args = {ratings = {...}}" } end
  local pos, wsum, pen = 0, 0, 0
  for name, w in pairs(WEIGHTS) do
    local r = tonumber(ratings[name])
    if w > 0 then
      if not r or r < 1 or r > 5 then return { status = "input_error", reason = "rate " .. name .. " from 1 to 5" } end
      pos, wsum = pos + w * (r - 1) / 4, wsum + w
    elseif r then
      if r < 0 or r > 5 then return { status = "input_error", reason = "rate " .. name .. " from 0 to 5" } end
      pen = pen + w * r / 5
    end
  end
  local s = math.max(0, math.min(1, (pos + pen) / wsum))
  return { score = s, reason = string.format("score %.1f on 1-10", 1 + 9 * s),
    detail = { on_1_10 = math.floor((1 + 9 * s) * 10 + 0.5) / 10 } }
end

local reply = srm.llm.tool_reply -- canned tool calls for the self-tests

return srm.skill {
  name = "rubric_judge",
  version = "1",
  description = "Pointwise judge on a weighted rubric (accuracy, relevance, clarity) with penalty "
    .. "criteria; reasons before ratings; exact weighting by a tool.",
  -- mock_script: a judge played by srm-mock (docs/agent.md), for tests and benchmarks
  settings = { setting = "skill_operational", mock_script = "" },
  evidence = {},
  resources = {
    { id = "criteria", type = "rubric", file = "res/criteria.md", description = "criteria, weights, anchors" },
    { id = "weighted_score", type = "tool", fn = weighted, description = "applies the weights: args = {ratings = {...}}" },
  },
  policy = srm.policy.agent { mode = "pointwise", scale = { 1, 10 }, instructions = "res/instructions.md",
    max_turns = 6 },
  tests = {
    { name = "rates, weighs with the tool, answers",
      record = { prompt = "What is the boiling point of water at sea level?", response = "100 °C." },
      llm = { reply("use_skill", '{"name":"rubric_judge"}'), reply("view_resource", '{"id":"criteria"}'),
              reply("run_resource", '{"id":"weighted_score","args":{"ratings":{"accuracy":5,"relevance":5,"clarity":4}}}'),
              reply("final_answer", '{"reason":"accurate and direct; weighted 9.6","score":9.6}') },
      expect = { score = (9.6 - 1) / 9 } },
  },
}
