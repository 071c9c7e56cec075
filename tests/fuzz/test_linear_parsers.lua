-- Regression tests for untrusted-text parsers in the stdlib that were super-linear: a Lua pattern
-- runs inside one C call that no instruction hook or deadline can interrupt, so a model's reply
-- could stall a worker for hours. Each case must finish in well under a second (the old code
-- took minutes on these inputs). Found while fuzzing (docs/reliability.md, "Fuzzing").
local T = dofile("tests/lua/testlib.lua")
local judge = require "srm.judge"
local code = require "srm.code"

local function timed(f, ...)
  local t0 = os.clock()
  local a, b = f(...)
  return os.clock() - t0, a, b
end

T.case("judge.parse_score: a long run of digits (was cubic: 2,000 digits took 43 s)", function()
  local s = ("1"):rep(3000)
  local dt, score = timed(judge.parse_score, s, 1, 10)
  T.eq(score, nil)
  T.eq(dt < 0.5, true)
  dt, score = timed(judge.parse_score, ("7"):rep(3000) .. "." .. ("5"):rep(3000) .. " / 9", 1, 9)
  T.eq(score, nil) -- 777...7.555...5 is out of the scale
  T.eq(dt < 0.5, true)
  dt, score = timed(judge.parse_score, ("9"):rep(100000) .. " and finally 7 / 10", 1, 10)
  T.eq(score, 7)
  T.eq(dt < 0.5, true)
end)

T.case("judge.parse_score: N/hi forms keep their meaning", function()
  local cases = {
    { "Score 7/10", 7 }, { "7.5 / 10 overall", 7.5 }, { "3/5 then 8/10", 8 },
    { "12.34.56/10", nil }, { "-.5/10", 5 }, { "x 4./10", 4 }, { "1/100", nil },
    { "6 /\n 10.", 6 }, { "10/10", 10 }, { "0/10", nil }, { "/10", nil },
  }
  for _, c in ipairs(cases) do T.eq(judge.parse_score(c[1], 1, 10), c[2], c[1]) end
end)

-- code.tests compares stdout line by line (the default compare = "lines") through a local table;
-- it is reached here through code.tests' upvalues.
local function compare_lines()
  for i = 1, 255 do
    local name, v = debug.getupvalue(code.tests, i)
    if name == nil then break end
    if name == "COMPARE" then return v.lines end
  end
  error("code.tests has no COMPARE upvalue any more: update this test")
end

T.case("code.tests lines compare: a long run of inner spaces (was quadratic)", function()
  local lines = compare_lines()
  local got = (" "):rep(200000) .. "x  \n\n"
  local dt, same = timed(lines, got, (" "):rep(200000) .. "x")
  T.eq(same, true)
  T.eq(dt < 0.5, true)
  T.eq(lines("a \t\nb\r\n\n", "a\nb"), true)
  T.eq(lines(" a", "a"), false)
end)

T.done()
