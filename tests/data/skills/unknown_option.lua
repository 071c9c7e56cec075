local srm = require "srm"
return srm.skill {
  name = "typo",
  evidence = {
    answer = srm.reference.number { fiel = "response", gold = "answer" },
  },
  policy = "answer",
}
