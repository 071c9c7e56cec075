-- Resume: a run cut short (OUT truncated mid-line) and continued with --resume ends with exactly
-- one row per input id, none duplicated, with the same scores as an uninterrupted run; and
-- --retry-failed re-runs timeout rows without duplicating them.
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")

local dir = C.tmpdir("resume")
local records = {}
for i = 1, 300 do
  records[i] = { id = "r" .. i, value = i % 7, expected = i % 3, delay = (i * 37 % 11) / 2000 }
end
local data = C.write_jsonl(dir .. "/data.jsonl", records)
local full = dir .. "/full.jsonl"
local args = { "run", "tests/data/skills/slow_number.lua", data, "--no-progress", "-j", "64" }

local function run(extra)
  local a = {}
  for _, v in ipairs(args) do a[#a + 1] = v end
  for _, v in ipairs(extra) do a[#a + 1] = v end
  return C.srm(a, dir)
end

local code, _, err = run({ "-o", full })
T.case("uninterrupted run", function() T.eq(code, 0, "exit (" .. err .. ")") end)
local full_rows = C.read_rows(full)

T.case("rows come out in input order although records finish out of order", function()
  T.eq(#full_rows, 300, "rows")
  for i, r in ipairs(full_rows) do T.eq(r.id, "r" .. i, "row " .. i) end
end)

for _, cut in ipairs({ 0.37, 0.0, 0.999 }) do
  T.case("truncated at " .. cut .. " of the file, then --resume", function()
    local content = C.read(full)
    local keep = math.floor(#content * cut)
    local part = dir .. "/part-" .. cut .. ".jsonl"
    C.write(part, content:sub(1, keep))
    local rc, _, e = run({ "-o", part, "--resume" })
    T.eq(rc, 0, "exit (" .. e .. ")")
    local rows = C.read_rows(part) -- raises on a torn line
    local ids = C.by_id(rows)      -- raises on a duplicated id
    T.eq(#rows, 300, "one row per input id")
    local want = C.by_id(full_rows)
    for id, r in pairs(ids) do
      T.eq(r.score, want[id].score, "score of " .. id)
      T.eq(r.status, want[id].status, "status of " .. id)
    end
  end)
end

T.case("an existing output is never clobbered without --resume or --overwrite", function()
  local rc, _, e = run({ "-o", full })
  T.eq(rc, 2, "exit code")
  T.truthy(e:find("--resume", 1, true), "message suggests --resume: " .. e)
  T.eq(#C.read_rows(full), 300, "file untouched")
end)

T.case("--retry-failed re-runs timeout rows only, without duplicates", function()
  local recs = {}
  for i = 1, 20 do recs[i] = { id = i, value = 1, expected = 1, spin = (i % 5 == 0) or nil } end
  local d2 = C.write_jsonl(dir .. "/spin.jsonl", recs)
  local o2 = dir .. "/spin-out.jsonl"
  local base = { "run", "tests/data/skills/slow_number.lua", d2, "-o", o2, "--no-progress",
    "--max-instructions", "2000000" }
  local rc, _, e = C.srm(base, dir)
  T.eq(rc, 0, "first run (" .. e .. ")")
  local first = C.by_id(C.read_rows(o2))
  T.eq(first[5].status, "timeout", "spinning record times out")
  T.eq(first[4].status, "ok", "others ok")
  -- Second pass: no spinning any more, retry the failed ones.
  for i = 1, 20 do recs[i].spin = nil end
  C.write_jsonl(d2, recs)
  local retry = { table.unpack(base) }
  retry[#retry + 1] = "--retry-failed"
  rc, _, e = C.srm(retry, dir)
  T.eq(rc, 0, "retry run (" .. e .. ")")
  local rows = C.read_rows(o2)
  local ids = C.by_id(rows)
  T.eq(#rows, 20, "still one row per id")
  for i = 1, 20 do T.eq(ids[i].status, "ok", "record " .. i .. " after retry") end
end)

T.done()
