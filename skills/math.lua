-- Math answer skill: a response earns 1 when its final answer (the last \boxed{}, "final answer
-- is ...", "#### N", "answer: ...", otherwise the last LaTeX span or number) is mathematically
-- equal to the reference answer; 0 otherwise. Equivalence follows Math-Verify: numbers,
-- fractions, radicals and pi compared as values, sets order-free, tuples ordered, interval
-- brackets significant, `x = 5` matching `5`, units and \text{} dropped (see srm.math).
--
-- Records: {id, response, answer} where answer is the bare answer ("\frac{1}{2}", "(1, 3]")
-- or a worked solution ending in its answer ("... \boxed{5}", "... #### 18", "... A: 18").
local srm = require "srm"

return srm.skill {
  name = "math",
  version = "1",
  description = "Final answer is mathematically equal to the reference answer (Math-Verify semantics).",
  evidence = {
    answer = srm.reference.math { field = "response", gold = "answer" },
  },
  policy = srm.policy.decide "answer",
  tests = {
    { name = "boxed fraction equals a decimal gold",
      record = { response = "So the probability is $\\boxed{\\frac{1}{2}}$.", answer = "0.5" },
      expect = { score = 1 } },
    { name = "tuple order matters",
      record = { response = "The point is $(3, 1)$.", answer = "(1, 3)" },
      expect = { score = 0 } },
    { name = "GSM8K-style final line",
      record = { response = "She makes 9 * 2 = 18 dollars\nA: 18",
                 answer = "16 - 3 - 4 = 9\n9 * 2 = 18\n#### 18" },
      expect = { score = 1 } },
    { name = "no answer in the response",
      record = { response = "I am not sure.", answer = "5" },
      expect = { score = 0 } },
    { name = "missing reference field is an input error",
      record = { response = "\\boxed{5}" },
      expect = { status = "input_error" } },
  },
}
