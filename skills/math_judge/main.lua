-- A cost-aware math judge: with a reference, the math verifier decides (a hard resource, so the
-- readout vetoes a contrary grade); without one, the model works the problem itself.
local srm = require "srm"

local reply = srm.llm.tool_reply -- canned tool calls for the self-tests

return srm.skill {
  name = "math_judge",
  version = "1",
  description = "Grades a math solution's final answer: the reference verifier first, the judge only "
    .. "when there is no reference or the check is inconclusive.",
  -- mock_script: a judge played by srm-mock (docs/agent.md), for tests and benchmarks
  settings = { setting = "skill_operational", mock_script = "" },
  evidence = { answer = srm.reference.math { field = "response", gold = "reference" } },
  resources = {
    { id = "answer_check", type = "verifier", evidence = "answer", hard_or_soft = "hard",
      visible = "reference", cost = "cheap", description = "final answer vs the reference (math equivalence)" },
  },
  policy = srm.policy.agent { mode = "pointwise", scale = { 0, 1 }, instructions = "res/instructions.md",
    max_turns = 6, max_runs = 3 },
  tests = {
    { name = "the verifier vetoes a wrong 'correct' grade",
      record = { prompt = "1/2 + 1/4?", response = "The sum is \\boxed{0.5}", reference = "3/4" },
      llm = { reply("use_skill", '{"name":"math_judge"}'),
              reply("final_answer", '{"score":1,"reason":"looks right"}') },
      expect = { score = 0, reason = "readout overrode 1 with hard evidence from answer_check" } },
    { name = "agrees with the verifier",
      record = { prompt = "1/2 + 1/4?", response = "So $\\frac{3}{4}$.", reference = "0.75" },
      llm = { reply("use_skill", '{"name":"math_judge"}'), reply("run_resource", '{"id":"answer_check"}'),
              reply("final_answer", '{"score":1,"reason":"verifier passed"}') },
      expect = { score = 1 } },
    { name = "no reference: the judge decides",
      record = { prompt = "2+2?", response = "5" },
      llm = { reply("final_answer", '{"score":0,"reason":"2+2 is 4"}') },
      expect = { score = 0 } },
  },
}
