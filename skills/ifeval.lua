-- IFEval (Zhou et al. 2023, google-research instruction_following_eval): does a response follow
-- the verifiable instructions of its prompt? Every instruction is checked with the official
-- checker's semantics by srm.ifeval, strict (the response as is) and loose (the response or one
-- of its seven variants without the first/last line or without '*').
--
-- Records: {key, prompt, instruction_id_list, kwargs, response}, as in the official
-- input_data.jsonl plus the response (the prompt is not needed by any of the 25 checks).
-- Rows: score = the fraction of instructions followed (strict); one component per instruction,
-- keyed "<0-based index>:<instruction_id>", {score = strict 1/0, detail = {strict, loose}}; and the
-- row's detail carries the official output fields follow_instruction_list_strict,
-- follow_instruction_list_loose, follow_all_strict and follow_all_loose.
--
-- Bad kwargs (a missing argument the official checker would draw at random, an unknown id, a
-- keyword that is not a regular expression) make the row an input_error. Response language needs
-- the langdetect profiles (Debian's python3-langdetect); without them the row is a skill_error.
local srm = require "srm"
local ifeval = srm.ifeval
local null = srm.json.null

local function input_error(reason)
  return { status = "input_error", reason = reason }
end

local check_all = ifeval.check_all

-- One call checks every instruction of the record (srm.ifeval.check_all shares the response's
-- decoding, loose variants, language and tokenization between them) and builds the result.
local function instructions(record)
  local response, ids, kwargs = record.response, record.instruction_id_list, record.kwargs
  if type(response) ~= "string" then return input_error("record has no string field 'response'") end
  if type(ids) ~= "table" then return input_error("record has no array field 'instruction_id_list'") end
  if kwargs == nil or kwargs == null then kwargs = {} end
  if type(kwargs) ~= "table" then return input_error("field 'kwargs' must be an array of objects") end
  if #ids == 0 then return { status = "abstain", reason = "the record lists no instruction" } end
  local result, message, code = check_all(ids, kwargs, response)
  if result then return result end
  return { status = (code == "BAD_ARGS" or code == "BAD_INPUT") and "input_error" or "skill_error",
           reason = message }
end

return srm.skill {
  name = "ifeval",
  version = "1",
  description = "IFEval: fraction of the prompt's verifiable instructions followed (official strict/loose semantics).",
  evidence = { instructions = { kind = "srm.ifeval", run = instructions,
    describe = "srm.ifeval.check_all: every instruction, strict and loose" } },
  policy = "instructions",
  tests = {
    { name = "two instructions, one followed",
      record = { instruction_id_list = { "punctuation:no_comma", "length_constraints:number_words" },
                 kwargs = { {}, { relation = "at least", num_words = 5 } },
                 response = "Short and sweet." },
      expect = { score = 0.5, components = {
        ["0:punctuation:no_comma"] = { score = 1 },
        ["1:length_constraints:number_words"] = { score = 0 } } } },
    { name = "loose passes what strict fails",
      record = { instruction_id_list = { "startend:quotation" }, kwargs = { {} },
                 response = "Sure, here it is:\n\"A quoted answer.\"" },
      expect = { score = 0, components = { ["0:startend:quotation"] = { score = 0 } } } },
    { name = "the same id twice with different kwargs",
      record = { instruction_id_list = { "keywords:existence", "keywords:existence" },
                 kwargs = { { keywords = { "apple" } }, { keywords = { "pear" } } },
                 response = "An apple a day." },
      expect = { score = 0.5, components = { ["0:keywords:existence"] = { score = 1 },
                                              ["1:keywords:existence"] = { score = 0 } } } },
    { name = "a missing argument is an input error",
      record = { instruction_id_list = { "keywords:frequency" }, kwargs = { { keyword = "a" } },
                 response = "a a a" },
      expect = { status = "input_error", reason = "needs 'frequency'" } },
    { name = "no response", record = { instruction_id_list = {}, kwargs = {} },
      expect = { status = "input_error" } },
  },
}
