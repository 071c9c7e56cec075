-- bench/llm_fanout: one chat call per record, the reply is the evidence.
local srm = require "srm"
return srm.skill {
  name = "fanout",
  evidence = {
    reply = function(record)
      local r, err, code = srm.llm.chat { messages = { { role = "user", content = record.prompt } },
        temperature = 0 }
      if not r then return { status = "judge_failed", reason = err .. " (" .. code .. ")" } end
      return { score = 1, status = "ok" }
    end,
  },
  policy = "reply",
}
