-- A skill whose self-test expects the wrong score: loading it must fail (exit 3), proving a
-- wrong skill result is caught before any record is scored.
local srm = require "srm"
return srm.skill {
  name = "wrong_selftest",
  evidence = { answer = srm.reference.number { field = "response", gold = "answer" } },
  policy = "answer",
  tests = {
    { name = "right", record = { response = "#### 4", answer = "4" }, expect = { score = 1 } },
    { name = "deliberately wrong", record = { response = "#### 5", answer = "4" }, expect = { score = 1 } },
  },
}
