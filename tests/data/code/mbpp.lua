-- MBPP-shaped records scored by the code.tests evidence (asserts), plus its self-tests.
local srm = require "srm"

return srm.skill {
  name = "code_mbpp",
  evidence = {
    tests = srm.code.tests { field = "response", tests = "test_list", timeout = 5 },
  },
  policy = "tests",
  tests = {
    { record = { response = "def f(x):\n    return x * 2\n", test_list = { "assert f(2) == 4", "assert f(0) == 1" } },
      expect = { score = 0.5 } },
  },
}
