local srm = require "srm"
return srm.skill {
  name = "dangling",
  evidence = { a = function() return 1 end },
  policy = srm.policy.mean { "a", "b" },
}
