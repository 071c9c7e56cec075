-- bench/serve: a rule skill (regex + equality), cheap enough that the server is what is measured.
local srm = require "srm"
return srm.skill {
  name = "equal",
  evidence = {
    format = srm.rule.regex { field = "response", pattern = [[^\S+$]] },
    same = function(r) return r.response == r.label end,
  },
  policy = srm.policy.cascade { srm.policy.veto "format", srm.policy.decide "same" },
}
