-- A hostile input file: valid lines, invalid JSON, invalid UTF-8, a 10 MiB line, a JSON array
-- line, a scalar line, blank and whitespace-only lines, CRLF and a BOM. Every non-blank line
-- yields exactly one row with the right status, and the run exits 0.
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")
local json = require "srm.json"

local dir = C.tmpdir("bad-input")
local big = string.rep("7 ", 5 * 1024 * 1024) .. "\n#### 7" -- ~10 MiB response
local lines = {
  "\239\187\191" .. json.encode({ id = "a", response = "#### 18", answer = "#### 18" }), -- BOM
  '{"id": "b", "response": "#### 5", "answer": "#### 6"',                                 -- truncated
  "",
  "   \t ",
  '{"id": "c", "response": "bad \255\254 bytes #### 18", "answer": "18"}',               -- invalid UTF-8
  '{"id": "d", "response": "ok\xC3\x28", "answer": "1"}',                                   -- invalid UTF-8
  json.encode({ id = "e", response = big, answer = "#### 7" }),                              -- 10 MiB
  '[{"id": "f", "response": "#### 1", "answer": "1"}]',                                      -- array
  "[]",                                                                                     -- empty array
  "42",                                                                                     -- scalar
  json.encode({ id = "g", response = "#### 3", answer = "#### 3" }) .. "\r",                -- CRLF
  "",
  "not json at all",
  json.encode({ id = "h", response = "#### 4", answer = "#### 5" }),
}
local data = C.write(dir .. "/bad.jsonl", table.concat(lines, "\n") .. "\n")
local out = dir .. "/rows.jsonl"
local code, _, stderr = C.srm({ "run", "skills/gsm8k.lua", data, "-o", out, "--no-progress" }, dir)

T.case("exit code 0", function() T.eq(code, 0, "exit code (stderr: " .. stderr .. ")") end)

local rows = C.read_rows(out)
local expected = {
  { id = "a", status = "ok", score = 1 },
  { id = 2, status = "input_error", reason = "line 2: invalid JSON" },
  { id = 5, status = "input_error", reason = "line 5: invalid UTF-8" },
  { id = 6, status = "input_error", reason = "line 6: invalid UTF-8 at byte" },
  { id = "e", status = "ok", score = 1 },
  { id = 8, status = "input_error", reason = "expected a JSON object, got an array" },
  { id = 9, status = "input_error", reason = "expected a JSON object, got an array" },
  { id = 10, status = "input_error", reason = "expected a JSON object, got a number" },
  { id = "g", status = "ok", score = 1 },
  { id = 13, status = "input_error", reason = "line 13: invalid JSON" },
  { id = "h", status = "ok", score = 0 },
}

T.case("one row per non-blank line, in order", function()
  T.eq(#rows, #expected, "row count")
end)

for i, e in ipairs(expected) do
  T.case("row " .. i .. " (" .. tostring(e.id) .. ")", function()
    local r = rows[i]
    T.eq(r.id, e.id, "id")
    T.eq(r.status, e.status, "status (reason " .. tostring(r.reason) .. ")")
    if e.score ~= nil then T.eq(r.score, e.score, "score") else T.eq(r.score, nil, "score") end
    if e.reason then
      T.truthy(tostring(r.reason):find(e.reason, 1, true), "reason '" .. tostring(r.reason) .. "' mentions '" .. e.reason .. "'")
    end
  end)
end

T.case("a line over --max-line-bytes becomes an input_error row naming the line", function()
  local out2 = dir .. "/rows-capped.jsonl"
  local code2, _, err2 = C.srm({ "run", "skills/gsm8k.lua", data, "-o", out2, "--no-progress",
    "--max-line-bytes", "1048576" }, dir)
  T.eq(code2, 0, "exit code (" .. err2 .. ")")
  local r2 = C.read_rows(out2)
  T.eq(#r2, #expected, "row count")
  T.eq(r2[5].id, 7, "the long line's row is identified by its line number")
  T.eq(r2[5].status, "input_error", "status")
  T.truthy(r2[5].reason:find("line 7", 1, true) and r2[5].reason:find("--max-line-bytes", 1, true), "reason: " .. r2[5].reason)
  T.eq(r2[6].status, "input_error", "the array line after it is still read")
  T.eq(r2[8].id, 10, "line numbers stay right after a skipped long line")
end)

T.done()
