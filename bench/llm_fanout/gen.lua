-- srm lua bench/llm_fanout/gen.lua N BYTES OUT: N records whose prompt is about BYTES long.
local json = require "srm.json"
local n, bytes, path = tonumber(arg[1]), tonumber(arg[2]), arg[3]
local out = assert(io.open(path, "wb"))
for i = 1, n do
  local pad = string.rep("lorem ipsum dolor sit amet ", math.max(1, bytes // 27))
  out:write(json.encode({ id = i, prompt = "Rate this answer (" .. i .. "): " .. pad }), "\n")
end
out:close()
