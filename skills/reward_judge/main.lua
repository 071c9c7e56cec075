-- A generic pairwise reward judge run by the agent loop: a rubric, bias controls and an
-- evidence-priority rule as resources. In the operational setting the record's reference,
-- checklist and metadata become resources too (labels are never shown).
local srm = require "srm"

local reply = srm.llm.tool_reply -- canned tool calls for the self-tests

return srm.skill {
  name = "reward_judge",
  version = "1",
  description = "Pairwise reward judge: correctness, instruction following, completeness, "
    .. "helpfulness; position and length bias controls; evidence-priority aggregation.",
  -- mock_script: a judge played by srm-mock (docs/agent.md), for tests and benchmarks
  settings = { setting = "skill_operational", mock_script = "" },
  evidence = {},
  resources = {
    { id = "rubric", type = "rubric", file = "res/rubric.md", description = "the criteria, in order of weight" },
    { id = "principles", type = "principle", file = "res/principles.md", description = "bias controls" },
    { id = "aggregation", type = "aggregation", file = "res/aggregation.md",
      description = "which evidence decides first" },
  },
  policy = srm.policy.agent { mode = "pairwise", instructions = "res/instructions.md",
    max_turns = 8, max_views = 6, max_runs = 4 },
  tests = {
    { name = "reads the rubric and decides; both orders agree",
      record = { prompt = "Name the capital of France.", response_a = "Paris.", response_b = "Lyon." },
      llm = { reply("use_skill", '{"name":"reward_judge"}'), reply("use_skill", '{"name":"reward_judge"}'),
              reply("view_resource", '{"id":"rubric"}'), reply("view_resource", '{"id":"rubric"}'),
              reply("final_answer", '{"verdict":"A","reason":"Paris is correct"}'),
              reply("final_answer", '{"verdict":"B","reason":"Paris is correct"}') },
      expect = { score = 1, reason = "both orders agree" } },
    { name = "orders disagree: tie",
      record = { prompt = "Pick one.", response_a = "x", response_b = "y" },
      llm = { reply("final_answer", '{"verdict":"A","reason":"first"}'),
              reply("final_answer", '{"verdict":"A","reason":"first"}') },
      expect = { score = 0.5 } },
  },
}
