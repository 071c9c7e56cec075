-- Writes N IFEval records ({key, prompt, instruction_id_list, kwargs, response}) by cycling through
-- the 541 GPT-4 responses of ../shared/data/ifeval (paired with input_data.jsonl by line).
-- Usage: srm lua bench/gen_ifeval_records.lua N OUT
local json = require "srm.json"
local n, out = tonumber(arg[1]), arg[2]
assert(n and out, "usage: srm lua bench/gen_ifeval_records.lua N OUT")
local D = "../shared/data/ifeval/"
local inputs, responses = {}, {}
for line in io.lines(D .. "input_data.jsonl") do inputs[#inputs + 1] = json.decode(line) end
for line in io.lines(D .. "responses_gpt4.jsonl") do responses[#responses + 1] = json.decode(line) end
assert(#inputs == #responses, "input and response files differ in length")
local lines = {}
for i, d in ipairs(inputs) do
  lines[i] = json.encode({ prompt = d.prompt, instruction_id_list = d.instruction_id_list,
    kwargs = d.kwargs, response = responses[i].response }, { order = { "key" } })
end
local f = assert(io.open(out, "wb"))
for i = 1, n do
  local k = (i - 1) % #lines + 1
  -- a unique key per record, the original key kept in front
  f:write('{"key":"', tostring(inputs[k].key), "-", tostring(i), '",', lines[k]:sub(2), "\n")
end
assert(f:close())
