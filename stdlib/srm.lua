-- The `srm` module skills require: declarations, evidence kinds, policies and the C modules.
-- Skills see it through a read-only view (stdlib/srm/sandbox.lua).
local core = require "srm.core"
local files = require "srm.files"

local srm = {
  version = core.version,
  skill = require("srm.skill").declare,
  rule = require "srm.rule",
  reference = require "srm.reference",
  policy = require "srm.policy",
  extract = require "srm.extract",
  re = require "srm.re",
  text = require "srm.text",
  json = require "srm.json",
  math = require "srm.math",
  ifeval = require "srm.ifeval",
  code = require "srm.code",
  tok = require "srm.tok",
  llm = require "srm.llm",
  judge = require "srm.judge",
  read = files.read,
  sleep = core.sleep,
}

-- srm.abstain(reason): ends the current evidence (or the whole record, from a policy) with
-- status "abstain"; aggregates exclude it instead of counting it as 0.
function srm.abstain(reason)
  error({ code = "ABSTAIN", reason = reason ~= nil and tostring(reason) or "abstained" }, 2)
end

return srm
