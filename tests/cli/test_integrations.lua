-- examples/integrations against a live `srm serve` with skills/gsm8k.lua (--map answer=label):
-- the verl compute_score module, OpenRLHF's exact request shape, and a TRL-style reward
-- function, each run by /usr/bin/python3 with the standard library only.
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")
local json = require "srm.json"

local dir = C.tmpdir("integrations")
local url, h = C.serve({ "skills/gsm8k.lua", "--map", "answer=label" }, dir)

-- Runs python code with examples/integrations importable; returns the decoded JSON it prints.
local function py(code)
  local script = C.write(dir .. "/snippet.py", "import json, sys\nsys.path.insert(0, 'examples/integrations')\n" .. code)
  local p = assert(io.popen("SRM_URL=" .. C.quote(url) .. " /usr/bin/python3 " .. C.quote(script) .. " 2>&1"))
  local out = p:read("a")
  p:close()
  local v = json.decode(out)
  if v == nil then error("python said: " .. out) end
  return v
end

T.case("verl: compute_score returns the reward and keeps the row's status", function()
  local v = py [[
import verl_reward
good = verl_reward.compute_score("gsm8k", "48 + 24 = 72\n#### 72", "72", {"question": "Q?"})
bad = verl_reward.compute_score("gsm8k", "I think it is 70", "72", {"question": "Q?"})
print(json.dumps([good, bad]))
]]
  T.eq({ v[1].score, v[1].srm_status }, { 1.0, "ok" }, "correct answer")
  T.eq({ v[2].score, v[2].srm_status }, { 0.0, "ok" }, "no final-answer line: vetoed")
end)

T.case("OpenRLHF: the exact request shape gives rewards in order", function()
  local p = assert(io.popen("/usr/bin/python3 examples/integrations/openrlhf_client.py " .. C.quote(url) .. " 2>&1"))
  local out = p:read("a")
  p:close()
  local v = json.decode(out)
  T.truthy(v, "output: " .. out)
  T.eq(v.rewards, { 1, 0 }, out)
  T.eq(v.extra_logs.srm_failed, 0)
end)

T.case("TRL: one reward per completion, extra dataset columns passed as fields", function()
  local v = py [==[
import trl_reward
prompts = [[{"role": "user", "content": "2+2?"}], [{"role": "user", "content": "3+3?"}]]
completions = [[{"role": "assistant", "content": "#### 4"}], [{"role": "assistant", "content": "#### 5"}]]
print(json.dumps(trl_reward.srm_reward(prompts, completions, label=["4", "6"])))
]==]
  T.eq(v, { 1.0, 0.0 })
end)

h:kill("TERM")
h:wait(10)
T.done()
