-- Instruction following, judged pairwise by the agent loop: checklist decomposition as a
-- resource, the record's checklist (operational setting), and the IFEval checks as a hard
-- verifier when the record carries IFEval instruction ids.
local srm = require "srm"
local ifeval = srm.ifeval
local null = srm.json.null

-- Every IFEval instruction of the record, strict: score 1 only when all are followed.
local function verifiable(record)
  local ids, kwargs = record.instruction_id_list, record.kwargs
  if type(ids) ~= "table" or #ids == 0 then return { status = "abstain", reason = "no instruction ids" } end
  if kwargs == nil or kwargs == null then kwargs = {} end
  local followed, results = 0, {}
  for i, id in ipairs(ids) do
    local kw = kwargs[i]
    if kw == nil or kw == null then kw = {} end
    local strict, _, code = ifeval.check(id, kw, record.response)
    if strict == nil then return { status = "input_error", reason = id .. ": " .. tostring(code) } end
    results[i] = { id = id, followed = strict }
    if strict then followed = followed + 1 end
  end
  return { score = followed == #ids and 1 or 0, reason = followed .. " of " .. #ids .. " instructions followed",
    detail = { instructions = results } }
end

local reply = srm.llm.tool_reply -- canned tool calls for the self-tests

return srm.skill {
  name = "instruction_following",
  version = "1",
  description = "Pairwise instruction-following judge: decompose the prompt into a checklist, "
    .. "verify countable constraints with tools, and use IFEval checks when available.",
  -- mock_script: a judge played by srm-mock (docs/agent.md), for tests and benchmarks
  settings = { setting = "skill_operational", mock_script = "" },
  evidence = {},
  resources = {
    { id = "decomposition", type = "checklist", file = "res/decomposition.md",
      description = "how to turn a prompt into a checklist" },
    { id = "verifiable_checks", type = "verifier", fn = verifiable, hard_or_soft = "hard",
      visible = "instruction_id_list", description = "the official IFEval checks of this prompt" },
  },
  policy = srm.policy.agent { mode = "pairwise", instructions = "res/instructions.md", max_runs = 4 },
  tests = {
    { name = "the IFEval check vetoes a verdict for the response with commas",
      record = { prompt = "Say hello without commas.", response_a = "Hello, world", response_b = "Hello world",
        instruction_id_list = { "punctuation:no_comma" }, kwargs = { {} } },
      llm = { reply("final_answer", '{"verdict":"A","reason":"friendlier"}'),
              reply("final_answer", '{"verdict":"B","reason":"friendlier"}') },
      expect = { score = 0, reason = "readout overrode A with hard evidence from verifiable_checks" } },
    { name = "a counted constraint",
      record = { prompt = "Answer in exactly two words.", response_a = "Yes indeed", response_b = "Yes" },
      llm = { reply("run_python", '{"code":"print({k: count_words(v) for k, v in RESPONSES.items()})"}'),
              reply("run_python", '{"code":"print({k: count_words(v) for k, v in RESPONSES.items()})"}'),
              reply("final_answer", '{"verdict":"A","reason":"two words"}'),
              reply("final_answer", '{"verdict":"B","reason":"two words"}') },
      expect = { score = 1 } },
  },
}
