-- Test skill for benchmark runs: the longer response wins (a deterministic stand-in for a
-- pairwise judge). It also checks that a task's `bench` bookkeeping (labels) never reaches it.
local srm = require "srm"
return srm.skill {
  name = "longer-wins",
  evidence = {
    pick = function(r)
      if r.bench ~= nil then error("the bench field reached the skill") end
      local a, b = #r.response_A, #r.response_B
      if a == b then return { score = 0.5, verdict = "tie" } end
      return { score = a > b and 1 or 0, verdict = a > b and "A" or "B" }
    end,
  },
  policy = "pick",
}
