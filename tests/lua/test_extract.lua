-- srm.extract: final numbers, number comparison, multiple-choice letters, SQuAD normalization.
local T = dofile("tests/lua/testlib.lua")
local extract = require "srm.extract"

-- {input, expected final_number}
local final_number_rows = {
  {"#### 1,234", "1234"},
  {"so the total is 5.\n#### 72", "72"},
  {"#### 12 and later 99", "12"},                 -- the number right after the last ####
  {"#### 1\nthen\n#### 2", "2"},                  -- the LAST marker wins
  {"####", nil},                                  -- marker without a number
  {"#### unknown, earlier 5", "5"},               -- first number after the marker
  {"#### -5", "-5"},
  {"####-5", "-5"},
  {"#### $1,000,000.50", "1000000.5"},
  {"She makes $18.00.", "18"},
  {"She makes $18.00 every day", "18"},
  {"The answer is 42.", "42"},
  {"It is 3.14159", "3.14159"},
  {"x = -3", "-3"},
  {"(-7)", "-7"},
  {"-12 degrees", "-12"},
  {"a loss of −4", "-4"},                         -- U+2212 minus sign
  {"5-3", "3"},                                   -- a hyphen, not a sign
  {"pages 10-12", "12"},
  {"x-3", "3"},
  {"+8", "8"},
  {"3/4 of the cake", "3/4"},
  {"-3/4", "-3/4"},
  {"A: 1/2.", "1/2"},
  {"12,345/5", "5"},                              -- no fraction with thousands commas
  {".5", "0.5"},
  {"about .25 of it", "0.25"},
  {"-.5", "-0.5"},
  {"1.2.3", "3"},
  {"007", "7"},
  {"0.50", "0.5"},
  {"-0", "0"},
  {"-0.00", "0"},
  {"1,234,567 people", "1234567"},
  {"1,2345", "2345"},                             -- not a thousands group
  {"12,345,67", "67"},
  {"1234,567", "567"},
  {"list 1,2,3", "3"},
  {"50%", "50"},
  {"it costs 25 dollars", "25"},
  {"5kg and 7km", "7"},
  {"A: 70,000", "70000"},
  {"Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs.\nA: 18", "18"},
  {"no number here", nil},
  {"", nil},
  {"1e5", "5"},                                   -- no scientific notation
  {"version 2.", "2"},
  {"$-3", "-3"},
  {"999999999999999999999999", "999999999999999999999999"},
}

T.case("final_number table (" .. #final_number_rows .. " rows)", function()
  for i, row in ipairs(final_number_rows) do
    T.eq(extract.final_number(row[1]), row[2], "row " .. i .. " " .. string.format("%q", row[1]))
  end
end)

T.case("final_number is linear on large untrusted text", function()
  local big = string.rep("12,345.6 - ", 20000) .. string.rep(" ", 100000) .. "end 7"
  T.eq(extract.final_number(big), "7")
  T.eq(extract.final_number(string.rep("9", 200000)), string.rep("9", 200000))
  T.eq(extract.final_number(string.rep("#", 100001)), nil)
  T.eq(extract.final_number("\255\254 5 \192"), "5")
end)

T.case("final_number raises on a non-string", function()
  local err = T.raises(function() extract.final_number(5) end,
    "extract.final_number: argument #1 must be a string, got number")
  T.truthy(err:find("test_extract.lua:", 1, true), "raised at the caller's line: " .. err)
end)

-- {text, expected number (nil = unreadable)}
local to_number_rows = {
  {"1234", 1234}, {"-3", -3}, {"1234.5", 1234.5}, {"0.5", 0.5}, {"3/4", 0.75}, {"-3/4", -0.75},
  {"1,234", 1234}, {"3/0", nil}, {"abc", nil}, {"", nil}, {"1.", 1.0}, {".5", 0.5},
  {" 7 ", 7}, {"1e5", nil}, {"inf", nil}, {"nan", nil}, {string.rep("9", 400), nil},
}

T.case("to_number table", function()
  for i, row in ipairs(to_number_rows) do
    T.eq(extract.to_number(row[1]), row[2], "row " .. i .. " " .. row[1])
  end
  T.eq(math.type(extract.to_number("18")), "integer")
  T.eq(math.type(extract.to_number("18.5")), "float")
end)

T.case("numbers_equal", function()
  T.eq(extract.numbers_equal("18", "18.0"), true)
  T.eq(extract.numbers_equal(18, 18.0), true)
  T.eq(extract.numbers_equal("3/4", "0.75"), true)
  T.eq(extract.numbers_equal("1/3", "0.3333333"), false)     -- 1e-7 relative > 1e-9
  T.eq(extract.numbers_equal("1/3", "0.333333333333"), true)  -- 1e-12 relative
  T.eq(extract.numbers_equal("1/3", "0.3333333333333333"), true)
  T.eq(extract.numbers_equal("1/3", "0.3333", 1e-3), true)
  T.eq(extract.numbers_equal("9007199254740993", "9007199254740992"), false) -- exact integers
  T.eq(extract.numbers_equal(1 << 62, (1 << 62) + 1), false)
  T.eq(extract.numbers_equal("3/0", "3/0"), false)
  T.eq(extract.numbers_equal("x", "1"), false)
  T.eq(extract.numbers_equal(0, 0.0), true)
  T.eq(extract.numbers_equal(0, 1e-12), false)
  T.eq(extract.numbers_equal(0.1 + 0.2, 0.3), true)
  T.eq(extract.numbers_equal(0.1 + 0.2, 0.3, 0), false)
  local err = T.raises(function() extract.numbers_equal({}, 1) end,
    "extract.numbers_equal: argument #1 must be a string or number, got table")
  T.truthy(err:find("test_extract.lua:", 1, true), "raised at the caller's line: " .. err)
end)

-- {text, letters or nil, expected letter}
local choice_rows = {
  -- 1. answer markers (the last one wins; lowercase only here)
  {"The answer is (B).", nil, "B"},
  {"the answer is b", nil, "B"},
  {"Answer: C", nil, "C"},
  {"answer: (d)", nil, "D"},
  {"ANSWER IS: **A**", nil, "A"},
  {"Final answer: \\boxed{C}", nil, "C"},
  {"The answer is A. Wait, no: the answer is D.", nil, "D"},
  {"The answer is a number between 1 and 4.", nil, nil},   -- article, not a choice
  {"The answer is A because B is wrong", nil, "A"},
  {"The answer is Bob", nil, nil},                         -- a word, not a letter
  {"The answer is E", nil, nil},                           -- not among ABCD
  {"The answer is E", "ABCDE", "E"},
  {"answer is J", "ABCDEFGHIJ", "J"},
  {"The answer is B\n**C**", nil, "B"},                    -- marker beats later bold
  {"answers: B", nil, nil},
  {"The answer isn't clear. (C)", nil, "C"},               -- marker fails, falls to (C) at end
  -- \boxed ranks with the answer markers, by position
  {"\\boxed{B}", nil, "B"},
  {"\\boxed{(C)}", nil, "C"},
  {"The answer is A ... actually \\boxed{D}", nil, "D"},
  {"\\boxed{D} so the answer is B", nil, "B"},
  {"\\boxed{b}", nil, nil},                                -- lowercase outside answer markers
  -- 2. bold
  {"I pick **C** here", nil, "C"},
  {"**A** or **(B)**", nil, "B"},
  {"**D.**", nil, "D"},
  {"**I** think", nil, nil},
  {"**B** then (C)", nil, "B"},                            -- bold beats (C) at the end
  -- 3. (B) at the end
  {"so it must be (A)", nil, "A"},
  {"so it must be (A).", nil, "A"},
  {"(A) is tempting, but no", nil, nil},
  {"it is (a)", nil, nil},
  -- 4. final line "B." / "B)"
  {"Reasoning...\nB.", nil, "B"},
  {"Reasoning...\n  C)  \n\n", nil, "C"},
  {"Reasoning...\nB. because", nil, nil},
  {"B.\nand more text", nil, nil},
  -- 5. lone letter
  {"  D  ", nil, "D"},
  {"d", nil, nil},
  {"I", "ABCDEFGHIJ", "I"},
  {"", nil, nil},
  {"none of these", nil, nil},
}

T.case("choice table (" .. #choice_rows .. " rows)", function()
  for i, row in ipairs(choice_rows) do
    T.eq(extract.choice(row[1], row[2]), row[3], "row " .. i .. " " .. string.format("%q", row[1]))
  end
end)

T.case("choice validates letters and is linear on large text", function()
  local err = T.raises(function() extract.choice("A", "abc") end,
    "extract.choice: letters must be distinct capitals A-Z, got 'abc'")
  T.truthy(err:find("test_extract.lua:", 1, true), "raised at the caller's line: " .. err)
  T.raises(function() extract.choice("A", "AAB") end, "distinct capitals")
  T.raises(function() extract.choice("A", "") end, "distinct capitals")
  local big = string.rep("answer ", 50000) .. string.rep(" ", 100000) .. "\n"
    .. string.rep("x", 200000)
  T.eq(extract.choice(big), nil)
  T.eq(extract.choice(string.rep("*", 100000) .. "B" .. string.rep(" ", 100000) .. "x"), nil)
  T.eq(extract.choice(string.rep("a", 300000) .. "\nB)"), "B")
end)

-- {text, normalized}
local normalize_rows = {
  {"The Cat", "cat"},
  {"  an   apple, a pear!  ", "apple pear"},
  {"Theater", "theater"},
  {"A.B.C.", "abc"},
  {"the-end", "theend"},
  {"THE", ""},
  {"", ""},
  {"Hello,\tWorld\n", "hello world"},
  {"Café au lait", "café au lait"},
  {"answer: 1,234", "answer 1234"},
}

T.case("normalize_text table", function()
  for i, row in ipairs(normalize_rows) do
    T.eq(extract.normalize_text(row[1]), row[2], "row " .. i)
  end
end)

T.case("trim and clip", function()
  T.eq(extract.trim(" \t a b \n"), "a b")
  T.eq(extract.trim("   "), "")
  T.eq(extract.clip("héllo", 2), "h")      -- é is two bytes: never cut in the middle
  T.eq(extract.clip("héllo", 3), "hé")
  T.eq(extract.clip("abc", 10), "abc")
end)

T.done()
