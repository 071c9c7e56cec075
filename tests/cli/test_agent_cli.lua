-- srm check / srm run with an agent-judge skill file: resources read from Markdown files (part of
-- the stamp), self-tests with canned tool-call replies, and a scripted run against srm-mock with
-- one row per record carrying the verdict and the agent component.
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")
local M = dofile("tests/lua/mocklib.lua")

local dir = C.tmpdir("agent-cli")
os.execute("mkdir -p " .. C.quote(dir .. "/res"))
C.write(dir .. "/res/rubric.md", "# Rubric\n\nThe correct answer wins.\n")
C.write(dir .. "/judge.lua", [==[
local srm = require "srm"

local function tc(name, args)
  return { id = "c_" .. name, type = "function", ["function"] = { name = name, arguments = args } }
end

-- The mock answers from [[mock:...]] directives in the last user message: a record's
-- `script` field... is not visible to the judge, so the script comes from the prompt text.
local function note(info)
  if info.phase == "loop" and info.turn == 1 then
    return '[[mock:tool_call=use_skill:{"name":"cli_judge"}]]'
  elseif info.phase == "loop" and info.turn == 2 then
    return '[[mock:tool_call=view_resource:{"id":"rubric"}]][[mock:tool_call=run_resource:{"id":"match"}]]'
  end
  return '[[mock:tool_call=final_answer:{"verdict":"B","reason":"scripted"}]]'
end

return srm.skill {
  name = "cli_judge",
  description = "pairwise judge with a rubric and a reference check",
  evidence = { exact = srm.reference.exact { field = "response", gold = "reference" } },
  resources = {
    { id = "rubric", type = "rubric", file = "res/rubric.md", description = "what wins" },
    { id = "match", type = "verifier", evidence = "exact", hard_or_soft = "hard", visible = "reference" },
  },
  policy = srm.policy.agent { mode = "pairwise", note = note, instructions_text = "Read the rubric." },
  tests = {
    { name = "canned tool calls",
      record = { prompt = "2+2?", response_a = "4", response_b = "5" },
      llm = { { tool_calls = { tc("use_skill", '{"name":"cli_judge"}') } },
              { tool_calls = { tc("use_skill", '{"name":"cli_judge"}') } },
              { tool_calls = { tc("final_answer", '{"verdict":"A","reason":"x"}') } },
              { tool_calls = { tc("final_answer", '{"verdict":"B","reason":"x"}') } } },
      expect = { score = 1, components = { agent = { score = 1 } } } },
  },
}
]==])

T.case("srm check: plan, stamp over the resource file, self-test with canned tool calls", function()
  local code, out, err = C.srm({ "check", dir .. "/judge.lua" }, dir)
  T.eq(code, 0, "exit (" .. err .. ")")
  T.truthy(out:find("res/rubric.md", 1, true), "the resource file is in the stamp: " .. out)
  T.truthy(out:find("agent judge (pairwise, skill_operational", 1, true), out)
end)

T.case("srm run against the mock: one row per record, verdict, readout override recorded", function()
  M.require_mock()
  local mock <close> = M.start {}
  local data = C.write_jsonl(dir .. "/data.jsonl", {
    { id = "r1", prompt = "2+2?", response_a = "4", response_b = "5", reference = "4", label = "A" },
    { id = "r2", prompt = "3+3?", response_a = "6", response_b = "7" },
  })
  local out = dir .. "/out.jsonl"
  local trace = dir .. "/trace.jsonl"
  local code, _, err = C.srm({ "run", dir .. "/judge.lua", data, "-o", out, "--endpoint", mock.url,
    "--model", "mock", "--no-progress", "--no-cache", "--trace", trace }, dir)
  T.eq(code, 0, "exit (" .. err .. ")")
  -- --trace: JSON lines per record with the turns, tool calls and results
  local traced = {}
  for line in (C.read(trace) or ""):gmatch("[^\n]+") do
    local t = require("srm.json").decode(line)
    traced[t.id] = (traced[t.id] or 0) + 1
  end
  T.truthy((traced.r1 or 0) > 0 and (traced.r2 or 0) > 0, "trace lines for both records: " .. tostring(C.read(trace)))
  T.truthy(C.read(trace):find("view_resource", 1, true), "tool calls are traced")
  local rows = C.by_id(C.read_rows(out))
  -- r1: both orders say B (order 2's B is A): disagreement -> tie; the reference check then
  -- finds A right and B wrong, and overrides the tie with A.
  T.eq({ rows.r1.status, rows.r1.verdict, rows.r1.score }, { "ok", "A", 1 })
  T.eq(rows.r1.components.agent.detail.readout.decision, "overridden")
  T.eq(rows.r1.components.agent.detail.readout.from, "tie")
  -- r2: no reference, the verifier is not visible: the tie stands
  T.eq({ rows.r2.status, rows.r2.verdict, rows.r2.score }, { "ok", "tie", 0.5 })
  T.eq(rows.r2.components.agent.detail.readout.decision, "none")
  T.eq(rows.r2.usage.llm_calls, 6, "3 turns x 2 orders")
end)

T.case("shipped agent skills pass srm check offline (canned replies)", function()
  for _, name in ipairs { "reward_judge", "instruction_following", "rubric_judge", "math_judge" } do
    local code, out, err = C.srm({ "check", "skills/" .. name .. "/main.lua" }, dir)
    T.eq(code, 0, name .. " exit (" .. err .. ")")
    T.truthy((out .. err):find("self%-tests: %d+ passed"), name .. ": " .. out .. err)
  end
end)

T.case("srm run on a Skill-RM package folder (SKILL.md + resources.yaml) runs it unchanged", function()
  local code, out, err = C.srm({ "check", "tests/data/skillrm_pkg/" }, dir)
  T.eq(code, 0, "srm check on the folder: " .. err)
  T.truthy(out:find("short-answer-pair", 1, true), out)
end)

T.done()
