-- The agent judge (srm.policy.agent) against srm-mock scripted as a tool-calling judge: the
-- acceptance checks of the agent loop, and the leakage check over the mock's request log.
--
-- Scripting: the mock answers from [[mock:...]] directives in the last user message. The agent's
-- `note` hook appends text to its own user message of every request (the task at turn 1, the
-- status note after each tool round, the forcing and retry prompts), so a test scripts each
-- turn of each order: script[order]["loop1"], ["loop2"], ..., ["forced"], ["plain"], ["direct"].
local T = dofile("tests/lua/testlib.lua")
local M = dofile("tests/lua/mocklib.lua")
M.require_mock()
local srm = require "srm"
local llm = require "srm.llm"
local json = require "srm.json"
local core = require "srm.core"
local evaluate = require "srm.evaluate"
local trace = require "srm.trace"

local tmp = (os.getenv("SRM_TEST_TMP") or "/tmp/srm-tests") .. "/agent-mock-" .. os.time() .. "-" .. math.random(1 << 30)
os.execute("mkdir -p '" .. tmp .. "'")
local log_path = tmp .. "/requests.log"
local mock <close> = M.start { "--log", log_path }
llm.configure { endpoints = { mock.url }, model = "mock", timeout = 5, retries = 0 }

local function read(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

-- The request bodies logged since `from` (a byte offset of the log), decoded.
local function requests_since(from)
  local out = {}
  for line in read(log_path):sub(from + 1):gmatch("[^\n]+") do out[#out + 1] = json.decode(line) end
  return out
end
local function log_size() return #read(log_path) end

local function call(name, args) return "[[mock:tool_call=" .. name .. ":" .. args .. "]]" end
local function final(v, why)
  return call("final_answer", json.encode { verdict = v, reason = why or "scripted" })
end

local function script_note(script)
  return function(info)
    local s = script[info.order] or {}
    local key = info.phase == "loop" and ("loop" .. info.turn) or info.phase
    return s[key]
  end
end

local function skill_with(opts, decl)
  local node_opts = { mode = "pairwise", instructions_text = "Check correctness first, then helpfulness." }
  for k, v in pairs(opts or {}) do node_opts[k] = v end
  local d = {
    name = "rj", description = "pairwise reward judge",
    evidence = { exact = srm.reference.exact { field = "response", gold = "reference" } },
    resources = {
      { id = "rubric", type = "rubric", text = "RUBRIC-TEXT: prefer the correct, complete answer." },
      { id = "ref_check", type = "verifier", evidence = "exact", hard_or_soft = "hard", visible = "reference" },
    },
    policy = srm.policy.agent(node_opts),
  }
  for k, v in pairs(decl or {}) do d[k] = v end
  return srm.skill(d)
end

local CTX = { settings = {}, skill = { name = "rj", dir = "." } }
-- No reference: the hard verifier is not visible, so the readout keeps the model's verdict.
local RECORD = { prompt = "What is 2+2?", response_a = "4", response_b = "5" }
local WITH_REF = { prompt = "What is 2+2?", response_a = "4", response_b = "5", reference = "4" }

local function run(skill, record)
  return evaluate.evaluate(skill, record or RECORD, CTX)
end

T.case("use_skill -> view -> run -> final in both orders, results fed back to the model", function()
  local from = log_size()
  local skill = skill_with { note = script_note {
    { loop1 = call("use_skill", '{"name":"rj"}'), loop2 = call("view_resource", '{"id":"rubric"}'),
      loop3 = call("run_resource", '{"id":"ref_check"}'), loop4 = final("A") },
    { loop1 = call("use_skill", '{"name":"rj"}'), loop2 = call("view_resource", '{"id":"rubric"}'),
      loop3 = call("run_resource", '{"id":"ref_check"}'), loop4 = final("B") },
  } }
  local r = run(skill, WITH_REF)
  T.eq(r.status, "ok", r.reason)
  T.eq(r.verdict, "A")
  T.eq(r.score, 1)
  local o = r.components.agent.detail.orders
  T.eq({ o[1].path, o[1].turns, o[1].views, o[1].runs }, { "final_answer", 4, 1, 1 })
  T.eq({ o[2].path, o[2].verdict }, { "final_answer", "A" }) -- B in the swapped order is A
  T.eq(r.components.agent.detail.readout.decision, "confirmed")
  local reqs = requests_since(from)
  T.eq(#reqs, 8, "4 turns x 2 orders")
  -- turn 3 of an order carries the rubric text as a tool result, turn 4 the verifier's result
  local saw_rubric, saw_run = false, false
  for _, q in ipairs(reqs) do
    for _, m in ipairs(q.messages) do
      if m.role == "tool" and m.content:find("RUBRIC-TEXT", 1, true) then saw_rubric = true end
      if m.role == "tool" and m.content:find('"ref_check"', 1, true) and m.content:find('"score":1', 1, true) then
        saw_run = true
      end
    end
  end
  T.truthy(saw_rubric, "the viewed rubric reached the model")
  T.truthy(saw_run, "the verifier result reached the model")
  -- progressive disclosure: the first request names the skill but shows no resource text
  local first = json.encode(reqs[1].messages)
  T.truthy(first:find("pairwise reward judge", 1, true), "skill description shown")
  T.eq(first:find("RUBRIC-TEXT", 1, true), nil, "resource text not shown before use")
end)

T.case("budget exhaustion -> forced final_answer (tool_choice names it)", function()
  local from = log_size()
  local view = call("view_resource", '{"id":"rubric"}')
  local skill = skill_with { max_turns = 2, swap = false, note = script_note {
    { loop1 = call("use_skill", '{"name":"rj"}'), loop2 = view, forced = final("B", "forced") },
  } }
  local r = run(skill)
  T.eq(r.status, "ok", r.reason)
  T.eq(r.verdict, "B")
  T.eq(r.components.agent.detail.orders[1].path, "forced_final")
  local reqs = requests_since(from)
  T.eq(#reqs, 3)
  T.eq(reqs[3].tool_choice["function"].name, "final_answer")
  T.eq(#reqs[3].tools, 1)
  T.eq(reqs[3].tools[1]["function"].name, "final_answer")
  T.eq(reqs[1].tool_choice, "auto")
end)

T.case("malformed tool arguments -> an error result goes back to the model, the loop goes on", function()
  local from = log_size()
  local skill = skill_with { swap = false, note = script_note {
    { loop1 = call("view_resource", '{"id": "rubric"'), loop2 = call("use_skill", '{"nme":"rj"}')
      .. call("no_such_tool", "{}"), loop3 = final("A") },
  } }
  local r = run(skill)
  T.eq(r.status, "ok", r.reason)
  T.eq(r.components.agent.detail.orders[1].path, "final_answer")
  local reqs = requests_since(from)
  T.eq(#reqs, 3)
  local function tool_msgs(q)
    local out = {}
    for _, m in ipairs(q.messages) do if m.role == "tool" then out[#out + 1] = json.decode(m.content) end end
    return out
  end
  local t2 = tool_msgs(reqs[2])
  T.eq(#t2, 1)
  T.truthy(t2[1].error:find("malformed arguments for view_resource", 1, true), t2[1].error)
  local t3 = tool_msgs(reqs[3])
  T.eq(#t3, 3)
  T.eq(t3[2].error, "missing argument 'name'")
  T.truthy(t3[3].error:find("unknown tool 'no_such_tool'", 1, true), t3[3].error)
end)

T.case("no verdict at all -> forced, plain-text retry, direct judge, then judge_failed", function()
  local from = log_size()
  local skill = skill_with { max_turns = 1, note = function() return nil end }
  local r = run(skill)
  T.eq(r.status, "judge_failed")
  T.eq(r.score, nil)
  T.truthy(r.reason:find("no verdict after the finalization chain", 1, true), r.reason)
  local o = r.components.agent.detail.orders[1]
  T.eq(o.path, "judge_failed")
  T.eq(#o.errors, 4)
  local reqs = requests_since(from)
  T.eq(#reqs, 8, "loop, forced, plain, direct for each order")
  -- order 1's requests are 1, 3, 5, 7 (lockstep with order 2)
  T.eq(reqs[1].tool_choice, "auto")
  T.eq(reqs[3].tool_choice["function"].name, "final_answer")
  T.eq(reqs[5].tools, nil, "plain-text retry sends no tools")
  T.truthy(reqs[5].messages[#reqs[5].messages].content:find("[[A]], [[B]] or [[Tie]]", 1, true))
  T.eq(#reqs[7].messages, 2, "the direct judge is a fresh conversation")
  T.eq(reqs[7].tools, nil)
end)

T.case("the plain-text retry and the direct judge can still decide", function()
  -- (the mock ends a directive at the first ']]', so the label is written as "Final verdict: B")
  local skill = skill_with { max_turns = 1, swap = false, note = script_note {
    { plain = "[[mock:reply=After checking, Final verdict: B]]" } } }
  local r = run(skill)
  T.eq({ r.status, r.verdict }, { "ok", "B" })
  T.eq(r.components.agent.detail.orders[1].path, "plain_retry")
  skill = skill_with { max_turns = 1, swap = false, note = script_note {
    { direct = '[[mock:reply={"verdict": "A", "reason": "direct"}]]' } } }
  r = run(skill)
  T.eq({ r.status, r.verdict }, { "ok", "A" })
  T.eq(r.components.agent.detail.orders[1].path, "direct_judge")
end)

T.case("parallel tool calls in one turn: python programs of both orders run at once", function()
  T.require_python("test_agent_mock")
  local sleepy = call("run_python", json.encode { code = "import time\ntime.sleep(0.6)\nprint(count_words(RESPONSES['A']))" })
  local skill = skill_with { max_runs = 3, note = script_note {
    { loop1 = sleepy .. sleepy, loop2 = final("A") },
    { loop1 = sleepy .. sleepy, loop2 = final("B") },
  } }
  local t0 = core.now()
  local r = run(skill, { prompt = "p", response_a = "one two three", response_b = "x" })
  local elapsed = core.now() - t0
  T.eq(r.status, "ok", r.reason)
  T.eq(r.components.agent.detail.orders[1].runs, 2)
  T.truthy(elapsed < 1.6, "four 0.6 s programs ran concurrently, took " .. elapsed .. " s")
end)

T.case("final_answer wins over its sibling calls", function()
  local from = log_size()
  local skill = skill_with { swap = false, note = script_note {
    { loop1 = call("use_skill", '{"name":"rj"}') .. final("B") .. call("view_resource", '{"id":"rubric"}') },
  } }
  local r = run(skill)
  T.eq({ r.status, r.verdict }, { "ok", "B" })
  local o = r.components.agent.detail.orders[1]
  T.eq({ o.turns, o.views, o.path }, { 1, 0, "final_answer" })
  T.eq(#requests_since(from), 1)
end)

T.case("both orders disagreeing give a tie", function()
  local skill = skill_with { readout = false, note = script_note {
    { loop1 = final("A") }, { loop1 = final("A") } } }
  local r = run(skill)
  T.eq({ r.status, r.verdict, r.score }, { "ok", "tie", 0.5 })
  T.truthy(r.reason:find("orders disagree (A vs B): tie", 1, true), r.reason)
end)

T.case("trace: every turn with messages, calls, full results, path and readout", function()
  local path = tmp .. "/trace.jsonl"
  assert(trace.open(path))
  local skill = skill_with { swap = false, note = script_note {
    { loop1 = call("use_skill", '{"name":"rj"}') .. call("view_resource", '{"id":"rubric"}'),
      loop2 = final("A") } } }
  local r = run(skill, { id = "rec-7", prompt = "What is 2+2?", response_a = "4", response_b = "5", reference = "4" })
  trace.close()
  T.eq(r.status, "ok", r.reason)
  local lines = {}
  for line in read(path):gmatch("[^\n]+") do lines[#lines + 1] = json.decode(line) end
  T.eq(#lines, 1)
  local tr = lines[1]
  T.eq(tr.id, "rec-7")
  local o = tr.trace.orders[1]
  T.eq(o.path, "final_answer")
  T.eq(#o.turns, 2)
  T.eq(o.turns[1].sent[1].role, "system")
  T.eq(o.turns[1].calls[2].name, "view_resource")
  T.eq(o.turns[1].calls[2].arguments, '{"id":"rubric"}')
  T.eq(o.turns[1].calls[2].result.content, "RUBRIC-TEXT: prefer the correct, complete answer.")
  T.eq(o.turns[2].calls[1].final, true)
  T.eq(tr.trace.readout.decision, "confirmed")
end)

T.case("leakage: label fields never reach any request body", function()
  T.require_python("test_agent_mock")
  local from = log_size()
  local skill = skill_with({ max_runs = 3, note = script_note {
    { loop1 = call("use_skill", '{"name":"rj"}') .. call("list_resources", "{}"),
      loop2 = call("view_resource", '{"id":"metadata"}') .. call("view_resource", '{"id":"reference"}'),
      loop3 = call("run_python", '{"code":"import os\\nprint(open(\\"srm_task.json\\").read())"}')
        .. call("run_lua", '{"code":"return PROMPT"}'),
      loop4 = final("A") },
    { loop1 = final("B") },
  } }, { evidence = { exact = srm.reference.exact { field = "response", gold = "reference" } } })
  local record = {
    prompt = "Which is right?", response_a = "alpha", response_b = "beta", reference = "alpha",
    chosen = "LEAK-CHOSEN-1", rejected = "LEAK-REJECTED-2", label = "LEAK-LABEL-3", gold = "LEAK-GOLD-4",
    winner = "LEAK-WINNER-5", score = 0.123456789,
    metadata = { source = "META-SOURCE-OK", label = "LEAK-META-LABEL-6", gold_answer = "LEAK-GOLD-ANSWER-7",
      nested = { preference = "LEAK-PREF-8", topic = "META-TOPIC-OK" } },
  }
  local r = run(skill, record)
  T.eq(r.status, "ok", r.reason)
  local body = read(log_path):sub(from + 1)
  T.truthy(#body > 0, "requests were logged")
  T.truthy(body:find("META-SOURCE-OK", 1, true), "the sanitized metadata was sent")
  T.truthy(body:find("META-TOPIC-OK", 1, true), "nested metadata was sent")
  for _, leak in ipairs { "LEAK-CHOSEN-1", "LEAK-REJECTED-2", "LEAK-LABEL-3", "LEAK-GOLD-4",
      "LEAK-WINNER-5", "0.123456789", "LEAK-META-LABEL-6", "LEAK-GOLD-ANSWER-7", "LEAK-PREF-8" } do
    T.eq(body:find(leak, 1, true), nil, leak .. " leaked into a request")
  end
end)

T.done()
