-- Every record sleeps 0.5 s in the sandbox: with -j N the runs overlap.
local srm = require "srm"

return srm.skill {
  name = "code_sleep",
  evidence = {
    slept = function()
      local r = srm.code.run { cmd = { "sleep", "0.5" }, timeout = 10 }
      return r.status == "ok" and r.exit_code == 0
    end,
  },
  policy = "slept",
}
