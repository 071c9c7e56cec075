-- Test skill: two rubric judges under one aggregate; their first calls go out together.
local srm = require "srm"
return srm.skill {
  name = "two_judges",
  evidence = {
    helpful = srm.judge.rubric { rubric_text = "Is it helpful?", scale = { 1, 5 } },
    honest = srm.judge.rubric { rubric_text = "Is it honest?", scale = { 1, 5 } },
  },
  policy = srm.policy.weighted { helpful = 1, honest = 1 },
  tests = {
    { record = { prompt = "q", response = "a" },
      llm = { '{"reason": "x", "score": 5}', '{"reason": "y", "score": 3}' },
      expect = { score = 0.75, components = { helpful = { score = 1 }, honest = { score = 0.5 } } } },
  },
}
