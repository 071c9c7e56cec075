-- The `srm` module skills require: declarations, evidence kinds, policies and the C modules.
-- Skills see it through a read-only view (stdlib/srm/sandbox.lua).
local core = require "srm.core"
local files = require "srm.files"

local srm = {
  version = core.version,
  skill = require("srm.skill").declare,
  policy = require "srm.policy",
  read = files.read,
  sleep = core.sleep,
}

-- The other parts load on first use (srm.judge, srm.ifeval, ...): a rule skill then carries
-- neither the judge code nor the IFEval language profiles in memory, and starts faster.
local LAZY = {
  rule = "srm.rule", reference = "srm.reference", extract = "srm.extract", re = "srm.re",
  text = "srm.text", json = "srm.json", math = "srm.math", ifeval = "srm.ifeval",
  code = "srm.code", tok = "srm.tok", llm = "srm.llm", judge = "srm.judge",
}
setmetatable(srm, {
  __index = function(t, k)
    local name = LAZY[k]
    if not name then return nil end
    local mod = require(name)
    rawset(t, k, mod)
    return mod
  end,
})

-- srm.abstain(reason): ends the current evidence (or the whole record, from a policy) with
-- status "abstain"; aggregates exclude it instead of counting it as 0.
function srm.abstain(reason)
  error({ code = "ABSTAIN", reason = reason ~= nil and tostring(reason) or "abstained" }, 2)
end

return srm
