local srm = require "srm"
while true do end
return srm.skill { name = "never", evidence = { a = function() return 1 end }, policy = "a" }
