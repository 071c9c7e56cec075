-- Sandbox escapes (ARCHITECTURE §4): each attempt becomes an error status on its own row, the
-- run continues, and later rows are ok.
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")

local dir = C.tmpdir("sandbox")
local expected = {
  { "ok", "ok" },
  { "loop_in_pcall", "timeout" },
  { "ok", "ok" },
  { "memory_bomb", "budget_exceeded" },
  { "huge_rep", "budget_exceeded" },
  { "ok", "ok" },
  { "io_open", "sandbox_error" },
  { "os_exit", "sandbox_error" },
  { "load_bytecode", "sandbox_error" },
  { "load_bytecode_text_mode", "sandbox_error" },
  { "string_dump", "skill_error" },
  { "string_dump_method", "skill_error" },
  { "setmetatable_env", "skill_error" },
  { "string_metatable", "skill_error" },
  { "global_assignment", "sandbox_error" },
  { "rawset_env", "sandbox_error" },
  { "modify_library", "sandbox_error" },
  { "debug_library", "sandbox_error" },
  { "require_io", "sandbox_error" },
  { "read_outside", "sandbox_error" },
  { "tokenizer_outside", "sandbox_error" },
  { "caught_memory_bomb", "budget_exceeded" },
  { "ok", "ok" },
  { "regex_limits", "sandbox_error" },
  { "mutate_ctx", "sandbox_error" },
  { "mutate_settings", "sandbox_error" },
  { "json_markers", "ok" },
  { "string_still_works", "ok" },
  { "ok", "ok" },
}
local records = {}
for i, e in ipairs(expected) do records[i] = { id = i, case = e[1] } end
local data = C.write_jsonl(dir .. "/escapes.jsonl", records)
local out = dir .. "/rows.jsonl"

local code, _, stderr = C.srm({ "run", "tests/data/skills/escapes.lua", data, "-o", out,
  "--max-instructions", "20000000", "--max-memory", "256", "--no-progress" }, dir)

T.case("the run completes with exit code 0 despite every escape", function()
  T.eq(code, 0, "exit code (stderr: " .. stderr .. ")")
end)

local rows = C.read_rows(out)
T.case("exactly one row per record, in input order", function()
  T.eq(#rows, #expected, "row count")
  for i, r in ipairs(rows) do T.eq(r.id, i, "row " .. i .. " id") end
end)

for i, e in ipairs(expected) do
  T.case(string.format("row %d (%s) has status %s", i, e[1], e[2]), function()
    local r = rows[i]
    T.eq(r.status, e[2], e[1] .. " status (reason: " .. tostring(r.reason) .. ")")
    if e[2] ~= "ok" then
      T.eq(r.score, nil, e[1] .. " score must be null, never a silent 0")
      T.truthy(type(r.reason) == "string" and #r.reason > 0, e[1] .. " has a reason")
    else
      T.eq(r.score, 1, e[1] .. " score")
    end
  end)
end

T.case("sandbox errors name the skill file and line", function()
  local r = rows[7]
  T.truthy(r.components.attempt.reason:find("escapes.lua:%d+"), "file:line in " .. r.components.attempt.reason)
end)

T.done()
