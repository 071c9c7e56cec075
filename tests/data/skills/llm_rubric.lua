-- Test skill: one rubric-judge call per record (srm-mock answers {"score": 4, ...} by default).
local srm = require "srm"
return srm.skill {
  name = "llm_rubric",
  evidence = {
    quality = srm.judge.rubric { rubric_text = "Grade helpfulness.", scale = { 1, 5 } },
  },
  policy = "quality",
  tests = {
    { record = { prompt = "q", response = "a" }, llm = { '{"reason": "fine", "score": 5}' },
      expect = { score = 1 } },
  },
}
