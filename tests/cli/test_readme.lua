-- The README's promises: its skill example is the file examples/short_answer.lua (so the guide
-- cannot rot), that skill passes srm check, the quickstart data scores as documented, and the
-- set-up commands it names exist.
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")

local readme = assert(C.read("README.md"))
local dir = C.tmpdir("readme")

T.case("the README's skill example is examples/short_answer.lua verbatim", function()
  local block = readme:match("```lua\n(.-)```")
  T.truthy(block, "a lua block in the README")
  T.eq(block, C.read("examples/short_answer.lua"), "example file")
end)

T.case("the example skill loads and passes its self-tests", function()
  local code, out, err = C.srm({ "check", "examples/short_answer.lua" }, dir)
  T.eq(code, 0, "exit (" .. out .. err .. ")")
  T.truthy(out:find("self-tests: 3 passed", 1, true), out)
end)

T.case("the set-up commands named in the README exist and are executable", function()
  for _, script in ipairs({ "scripts/quickstart.sh", "scripts/test.sh" }) do
    T.truthy(readme:find(script, 1, true), "README names " .. script)
    T.truthy(os.execute("test -x " .. script), script .. " is executable")
  end
end)

T.case("the quickstart example scores with one row per record and the GSM8K labels", function()
  local out = dir .. "/quickstart.jsonl"
  local code, _, err = C.srm({ "run", "skills/gsm8k.lua", "examples/quickstart/gsm8k_sample.jsonl",
    "-o", out, "--no-progress" }, dir)
  T.eq(code, 0, "exit (" .. err .. ")")
  local rows = C.read_rows(out)
  T.eq(#rows, 50, "rows")
  local json = require "srm.json"
  local i = 0
  for line in io.lines("examples/quickstart/gsm8k_sample.jsonl") do
    i = i + 1
    local rec = json.decode(line)
    T.eq(rows[i].id, rec.id, "id of row " .. i)
    T.eq(rows[i].score == 1, rec.is_correct, "score of " .. rec.id .. " vs is_correct")
  end
end)

T.done()
