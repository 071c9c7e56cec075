-- A deliberately wrong GSM8K skill (the answer check inverted). The agreement test runs it to
-- prove that its checker catches a wrong skill result.
local srm = require "srm"
return srm.skill {
  name = "gsm8k_inverted",
  evidence = { answer = srm.reference.number { field = "response", gold = "answer" } },
  policy = srm.policy.threshold { "answer", at = 0.5, above = 0, below = 1 },
}
