-- GSM8K reference skill: a response earns 1 when it ends in a clean final-answer line
-- ("#### N", or "A: N" as in OpenAI's released model solutions) and that number equals the
-- reference answer's final number; 0 otherwise.
--
-- Records: {id, question, response, answer} where answer is the reference solution (ending
-- "#### N" or "A: N") or just the number. The format check runs first and vetoes truncated or
-- rambling outputs; only then is the number compared.
local srm = require "srm"

return srm.skill {
  name = "gsm8k",
  version = "1",
  description = "Final number equals the reference; a clean '#### N' / 'A: N' last line is required.",
  evidence = {
    format = srm.rule.regex {
      field = "response",
      pattern = [[(?:####|A:)\s*\$?\s*-?[\d,]*\.?\d+\s*$]],
    },
    answer = srm.reference.number { field = "response", gold = "answer" },
  },
  policy = srm.policy.cascade {
    srm.policy.veto "format",
    srm.policy.decide "answer",
  },
  tests = {
    { name = "correct, #### format",
      record = { response = "16 - 3 - 4 = 9 eggs, 9 * 2 = 18\n#### 18", answer = "#### 18" },
      expect = { score = 1 } },
    { name = "correct, A: format with thousands separator",
      record = { response = "So the total is 1,200 dollars\nA: 1,200", answer = "... \nA: 1200" },
      expect = { score = 1 } },
    { name = "wrong number",
      record = { response = "She makes 26 dollars\n#### 26", answer = "#### 18" },
      expect = { score = 0, components = { format = { score = 1 }, answer = { score = 0 } } } },
    { name = "truncated output is vetoed before the answer is compared",
      record = { response = "She makes 9 * 2 = 18 dollars, then", answer = "#### 18" },
      expect = { score = 0, reason = "format" } },
    { name = "missing reference field is an input error",
      record = { response = "#### 18" },
      expect = { status = "input_error" } },
  },
}
