-- Acceptance of srm.math against its references:
--  * Math-Verify's own test cases (../shared/data/math/math_verify_cases.jsonl, 276 cases:
--    compare_strings(gold, pred, match_types=..., precision=..., strict=...) and
--    verify(parse(gold), parse(pred))): >= 95% agreement, failures listed by category.
--    Both sides go through math.extract (like Math-Verify's parse) and then math.equal.
--    Of the 8 cases stored as "raw" Python, the float-precision one is rebuilt here; the 7
--    StringExtractionConfig cases (custom letter sets, lowercasing) cannot be expressed with
--    srm.math's options and are excluded (the letter extraction they test is covered in
--    tests/lua/test_math.lua).
--  * hendrycks is_equiv (hendrycks_is_equiv.jsonl): 100%, with {ordered = true} (is_equiv
--    compares comma lists as ordered strings).
--  * the 5,276 labelled GSM8K solutions: skills/math.lua must agree with is_correct on all.
-- Set SRM_MATH_VERBOSE=1 to print every disagreement.
local T = dofile("tests/lua/testlib.lua")
local C = dofile("tests/cli/clilib.lua")
local json = require "srm.json"
local smath = require "srm.math"

local DATA = "tests/data" -- copies of ../shared/data (see tests/data/math/README.md)
local VERBOSE = os.getenv("SRM_MATH_VERBOSE") == "1"

local function read_jsonl(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local rows = {}
  for line in f:lines() do
    if line:find("%S") then rows[#rows + 1] = assert(json.decode(line)) end
  end
  f:close()
  return rows
end

local cases = read_jsonl(DATA .. "/math/math_verify_cases.jsonl")
local hendrycks = read_jsonl(DATA .. "/math/hendrycks_is_equiv.jsonl")
if not cases or not hendrycks then
  io.stderr:write("SKIPPED: ", DATA, "/math is missing (the shared conformance data)\n")
  os.exit(77)
end

-- Options of one compare_strings call, from its kwargs and the case's own fields.
local function options(kwargs, case)
  local o = {}
  if kwargs.match_types then o.targets = kwargs.match_types end
  local p = kwargs.precision
  if p == "precision" then p = case.precision end
  if p then o.precision = math.tointeger(p) end
  if kwargs.strict == "strict" then o.strict = case.strict end
  if kwargs.allow_set_relation_comp then o.set_relation = case.allow_set_relation_comp end
  return o
end

-- Math-Verify's verify(parse(gold), parse(pred)) with srm.math.
local function agree(gold, pred, o)
  local g = smath.extract(gold, o)
  local p = smath.extract(pred, o)
  if not g or not p then return false, g, p end
  local eq = smath.equal(g, p, o)
  return eq, g, p
end

T.case("Math-Verify test cases: >= 95% agreement", function()
  local total, ok, excluded = 0, 0, 0
  local by_test, fails = {}, {}
  for i, row in ipairs(cases) do
    local case, opts = row.case, nil
    if row.raw then
      if row.test == "test_float_precision" then
        case = { gold = string.format("%.15f", math.sqrt(17)), pred = "$\\sqrt{17}$", expected = 1 }
        opts = options(row.calls[1].kwargs, case)
      else
        excluded = excluded + 1
      end
    else
      local call = row.calls[1]
      opts = call.func == "compare_strings" and options(call.kwargs, case) or {}
    end
    if opts then
      total = total + 1
      local expected = (case.expected or case.result) == 1
      local got, g, p = agree(case.gold, case.pred, opts)
      local t = by_test[row.test] or { n = 0, ok = 0 }
      by_test[row.test] = t
      t.n = t.n + 1
      if got == expected then
        ok = ok + 1
        t.ok = t.ok + 1
      else
        fails[#fails + 1] = string.format("  #%d %s expected %s: gold %q -> %s | pred %q -> %s", i,
          row.test, tostring(expected), case.gold:sub(1, 60), tostring(g), case.pred:sub(-60), tostring(p))
      end
    end
  end
  local names = {}
  for k in pairs(by_test) do names[#names + 1] = k end
  table.sort(names)
  io.stderr:write(string.format("Math-Verify cases: %d/%d agree (%.1f%%), %d excluded\n", ok, total,
    100 * ok / total, excluded))
  for _, k in ipairs(names) do
    local t = by_test[k]
    if t.ok < t.n then io.stderr:write(string.format("  %-40s %d/%d\n", k, t.ok, t.n)) end
  end
  if VERBOSE then io.stderr:write(table.concat(fails, "\n"), "\n") end
  T.eq(total + excluded, 276, "cases")
  T.eq(excluded, 7, "excluded raw cases")
  T.truthy(ok >= math.ceil(0.95 * total), string.format("agreement %d/%d below 95%%", ok, total))
end)

T.case("hendrycks is_equiv: 100% with ordered lists", function()
  local bad = {}
  for _, row in ipairs(hendrycks) do
    local eq = smath.equal(row.str1, row.str2, { ordered = true })
    if eq ~= row.expected_equiv then bad[#bad + 1] = row.test end
  end
  T.eq(#hendrycks, 16, "cases")
  T.eq(bad, {}, "disagreements")
end)

T.case("skills/math.lua agrees with is_correct on all 5,276 GSM8K solutions", function()
  local src = DATA .. "/gsm8k/example_model_solutions.jsonl"
  local f = io.open(src, "rb")
  if not f then error("missing " .. src) end
  local dir = C.tmpdir("math")
  local data = dir .. "/flat.jsonl"
  local out = assert(io.open(data, "wb"))
  local labels, n = {}, 0
  for line in f:lines() do
    n = n + 1
    local r = assert(json.decode(line))
    for _, k in ipairs({ "6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification" }) do
      local id = n .. ":" .. k
      labels[id] = r[k].is_correct
      out:write(json.encode({ id = id, response = r[k].solution, answer = r.ground_truth }), "\n")
    end
  end
  f:close()
  out:close()
  local rows_path = dir .. "/rows.jsonl"
  local code, _, err = C.srm({ "run", "skills/math.lua", data, "-o", rows_path, "--overwrite",
    "--no-progress" }, dir)
  T.eq(code, 0, "srm run exit (" .. err .. ")")
  local rows = C.read_rows(rows_path)
  local bad, examples = 0, {}
  for _, r in ipairs(rows) do
    if (r.status == "ok" and r.score == 1) ~= labels[r.id] then
      bad = bad + 1
      if #examples < 5 then examples[#examples + 1] = r.id .. " (" .. tostring(r.reason) .. ")" end
    end
  end
  T.eq(#rows, 5276, "rows")
  T.eq(bad, 0, "disagreements: " .. table.concat(examples, "; "))
end)

T.done()
