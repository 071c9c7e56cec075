local srm = require "srm"
return srm.skill {
  name = "broken",
  evidence = { a = function() return 1 end }
  policy = "a",
}
