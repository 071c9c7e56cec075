-- Test skill: an LLM rubric judge gated by a cheap format rule; self-tests use canned replies.
local srm = require "srm"
return srm.skill {
  name = "judged",
  evidence = {
    nonempty = srm.rule.regex { field = "response", pattern = [[\S]] },
    quality = srm.judge.rubric { rubric = "rubrics/helpful.md", scale = { 1, 10 } },
    pair = srm.judge.pairwise { field_a = "response", field_b = "other" },
  },
  policy = srm.policy.cascade { srm.policy.veto "nonempty", srm.policy.decide "quality" },
  tests = {
    { name = "json verdict", record = { prompt = "2+2?", response = "4" },
      llm = { '{"reason": "correct", "score": 10}' }, expect = { score = 1 } },
    { name = "fenced json with prose", record = { prompt = "2+2?", response = "5" },
      llm = { 'Thinking...\n```json\n{"reason": "wrong", "score": 1}\n```' }, expect = { score = 0 } },
    { name = "re-ask after an unparsable reply", record = { prompt = "q", response = "r" },
      llm = { "I think it is fine.", '{"reason": "ok", "score": 7}' }, expect = { score = 6 / 9 } },
    { name = "judge_failed after two unparsable replies", record = { prompt = "q", response = "r" },
      llm = { "hmm", "still no verdict" }, expect = { status = "judge_failed", reason = "still no verdict" } },
    { name = "empty response vetoed without a model call", record = { prompt = "q", response = "  " },
      expect = { score = 0 } },
  },
}
