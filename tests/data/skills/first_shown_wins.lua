-- Test skill for best-of-N pairwise strategies: a judge with total position bias, it always
-- picks the response shown as A. Which candidate wins therefore depends only on the seeded
-- display order of each match.
local srm = require "srm"
return srm.skill {
  name = "first-shown-wins",
  evidence = {
    pick = function(r)
      assert(r.response_A and r.response_B, "a pairwise record has response_A and response_B")
      return { score = 1, verdict = "A" }
    end,
  },
  policy = "pick",
}
