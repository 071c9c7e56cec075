-- skills/ifeval.lua against the official checker's verdicts on GPT-4's 541 IFEval responses
-- (../shared/data/ifeval/reference_gpt4.jsonl): through `srm run`, every verdict that is neither
-- `approx` (depends on NLTK's trained Punkt model) nor `unstable` must agree, strict and loose;
-- at least 95% of the `approx` ones must. Prints prompt- and instruction-level accuracies next to
-- the official ones.
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")
local json = require "srm.json"

local DATA = "tests/data/ifeval/" -- copies of ../shared/data/ifeval (see its README)
local function readable(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end
if not readable(DATA .. "reference_gpt4.jsonl") then
  print("SKIPPED: " .. DATA .. " is missing (the IFEval reference data sits next to the checkout)")
  os.exit(77)
end

local function read_jsonl(path)
  local rows = {}
  for line in io.lines(path) do rows[#rows + 1] = json.decode(line) end
  return rows
end

local inputs = read_jsonl(DATA .. "input_data.jsonl")
local responses = read_jsonl(DATA .. "responses_gpt4.jsonl")
local reference = read_jsonl(DATA .. "reference_gpt4.jsonl")

T.case("541 records through srm run agree with the official verdicts", function()
  T.eq(#inputs, 541, "inputs")
  T.eq(#responses, 541, "responses")
  T.eq(#reference, 541, "reference")
  -- pair by line: the response file carries an older prompt text for key 2785
  local records = {}
  for i, d in ipairs(inputs) do
    records[i] = { key = d.key, prompt = d.prompt, instruction_id_list = d.instruction_id_list,
                   kwargs = d.kwargs, response = responses[i].response }
  end
  local dir = C.tmpdir("ifeval_reference")
  C.write_jsonl(dir .. "/records.jsonl", records)
  local code, _, err = C.srm({ "run", "skills/ifeval.lua", dir .. "/records.jsonl", "-o", dir .. "/out.jsonl" })
  T.eq(code, 0, "exit code (stderr: " .. err .. ")")
  local rows = read_jsonl(dir .. "/out.jsonl")
  T.eq(#rows, 541, "rows")

  local exact = { n = 0, agree = 0 }
  local approx = { n = 0, agree = 0 }
  local mine = { prompt_strict = 0, prompt_loose = 0, inst_strict = 0, inst_loose = 0 }
  local official = { prompt_strict = 0, prompt_loose = 0, inst_strict = 0, inst_loose = 0 }
  local total = 0
  local disagreements = {}
  for i, row in ipairs(rows) do
    local ref = reference[i]
    T.eq(row.id, ref.key, "row " .. i .. " id")
    T.eq(row.status, "ok", "row " .. i .. " status")
    local d = row.detail
    local n = #ref.instruction_id_list
    local n_strict = 0
    for k = 1, n do
      local name = (k - 1) .. ":" .. ref.instruction_id_list[k]
      local comp = row.components[name]
      T.truthy(comp, "row " .. i .. " component " .. name)
      T.eq(comp.detail, { strict = d.follow_instruction_list_strict[k], loose = d.follow_instruction_list_loose[k] },
        "row " .. i .. " component detail")
      T.eq(comp.score, d.follow_instruction_list_strict[k] and 1 or 0, "row " .. i .. " component score")
      if d.follow_instruction_list_strict[k] then n_strict = n_strict + 1 end
      for _, mode in ipairs({ "strict", "loose" }) do
        local got = d["follow_instruction_list_" .. mode][k]
        local want = ref["follow_instruction_list_" .. mode][k]
        if not ref.unstable[k] then
          local bucket = ref.approx[k] and approx or exact
          bucket.n = bucket.n + 1
          if got == want then
            bucket.agree = bucket.agree + 1
          else
            disagreements[#disagreements + 1] = string.format("key %s %s %s: srm %s, official %s%s",
              tostring(ref.key), name, mode, tostring(got), tostring(want), ref.approx[k] and " (approx)" or "")
          end
        end
        if got then mine["inst_" .. mode] = mine["inst_" .. mode] + 1 end
        if want then official["inst_" .. mode] = official["inst_" .. mode] + 1 end
      end
    end
    total = total + n
    T.near(row.score, n_strict / n, 1e-12, "row " .. i .. " score")
    T.eq(d.follow_all_strict, n_strict == n, "row " .. i .. " follow_all_strict")
    if d.follow_all_strict then mine.prompt_strict = mine.prompt_strict + 1 end
    if d.follow_all_loose then mine.prompt_loose = mine.prompt_loose + 1 end
    if ref.follow_all_strict then official.prompt_strict = official.prompt_strict + 1 end
    if ref.follow_all_loose then official.prompt_loose = official.prompt_loose + 1 end
  end
  local function pct(a, b) return string.format("%.2f%% (%d/%d)", 100 * a / b, a, b) end
  print("                         srm                  official")
  print("prompt-level strict      " .. pct(mine.prompt_strict, 541) .. "   " .. pct(official.prompt_strict, 541))
  print("instruction-level strict " .. pct(mine.inst_strict, total) .. "   " .. pct(official.inst_strict, total))
  print("prompt-level loose       " .. pct(mine.prompt_loose, 541) .. "   " .. pct(official.prompt_loose, 541))
  print("instruction-level loose  " .. pct(mine.inst_loose, total) .. "   " .. pct(official.inst_loose, total))
  print("agreement, exact verdicts:  " .. pct(exact.agree, exact.n))
  print("agreement, approx verdicts: " .. pct(approx.agree, approx.n))
  for _, line in ipairs(disagreements) do print("  " .. line) end
  T.eq(exact.n, 1510, "exact verdicts (755 instructions, strict and loose)")
  T.eq(exact.agree, exact.n, "agreement on the exact verdicts")
  T.eq(approx.n, 152, "approx verdicts")
  T.truthy(approx.agree >= math.ceil(0.95 * approx.n), "agreement on the approx verdicts >= 95%")
end)

T.done()
