-- Test skill: compares numbers after sleeping a record-specific time, so records finish out of
-- order and the writer's reordering is exercised. `delay` (seconds) comes from the record.
-- Records with `spin = true` loop forever (timeout); `fail = true` raises.
local srm = require "srm"

return srm.skill {
  name = "slow_number",
  settings = { scale = 1.0 },
  evidence = {
    value = function(record, ctx)
      if record.delay then srm.sleep(record.delay * ctx.settings.scale) end
      if record.spin then while true do end end
      if record.fail then error("failing on purpose") end
      return record.value == record.expected
    end,
  },
  policy = "value",
  tests = {
    { record = { value = 1, expected = 1 }, expect = { score = 1 } },
    { record = { value = 1, expected = 2 }, expect = { score = 0 } },
  },
}
