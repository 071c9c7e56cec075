-- examples/short_answer.lua
local srm = require "srm"
local boxed = srm.re.compile([[\\boxed\{([^}]*)\}]])   -- compiled once, at load

return srm.skill {
  name = "short_answer",
  description = "Exact answer in a \\boxed{}, no longer than the limit.",
  settings = { max_words = 200 },                 -- override with --set max_words=50
  evidence = {
    boxed = srm.rule.regex { field = "response", pattern = [[\\boxed\{[^}]+\}]] },
    answer = function(record)                      -- any Lua function is evidence
      local got = boxed:match(record.response)
      return got ~= nil and srm.extract.normalize_text(got) == srm.extract.normalize_text(record.answer)
    end,
    short = function(record, ctx)
      return srm.text.count_words(record.response) <= ctx.settings.max_words
    end,
  },
  policy = srm.policy.cascade {
    srm.policy.veto "boxed",                       -- no box: score 0, stop here
    srm.policy.weighted { answer = 1, short = 0.2 },
  },
  tests = {                                        -- run at load; a failure stops the run
    { record = { response = "\\boxed{Paris}", answer = "paris" }, expect = { score = 1 } },
    { record = { response = "Paris", answer = "paris" }, expect = { score = 0 } },
    { record = { response = "\\boxed{Lyon}", answer = "paris" }, expect = { score = 0.2 / 1.2 } },
  },
}
