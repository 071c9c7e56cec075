-- Test skill for best-of-N argmax (srm run --mode group): a candidate scores one tenth per "!"
-- (at most 1). It checks that it sees one candidate as `response`, never the candidate array
-- or the `bench` bookkeeping.
local srm = require "srm"
return srm.skill {
  name = "bang-count",
  evidence = {
    bangs = function(r)
      if r.responses ~= nil or r.bench ~= nil then error("the group's candidates or bench reached the skill") end
      local _, n = r.response:gsub("!", "")
      if r.response:find("FAIL", 1, true) then return { status = "judge_failed", reason = "scripted failure" } end
      return math.min(n, 10) / 10
    end,
  },
  policy = "bangs",
}
