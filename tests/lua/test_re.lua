-- srm.re: PCRE2 regexes (compile, find/match/test/exec, gmatch, gsub, split, escape), limits,
-- invalid UTF-8 subjects, the module-level compile cache and garbage collection.
local T = dofile("tests/lua/testlib.lua")
local re = require "srm.re"

local pack = table.pack

-- results of f(...) as a plain array (n dropped), so T.eq can compare nils by position
local function res(...)
  local t = pack(...)
  local out = {}
  for i = 1, t.n do out[i] = t[i] == nil and "<nil>" or t[i] end
  return out
end

T.case("compile: tostring, pattern field, locked metatable", function()
  local rx = re.compile("(\\d+)-(\\d+)")
  T.eq(tostring(rx), "srm.re((\\d+)-(\\d+))")
  T.eq(rx.pattern, "(\\d+)-(\\d+)")
  T.eq(rx.nosuchmethod, nil)
  T.eq(getmetatable(rx), "srm.re")
  T.eq(type(re.jit), "boolean")
end)

T.case("compile errors raise with the offset and the pattern", function()
  local err = T.raises(function() re.compile("(ab") end, "at offset 3 in pattern \"(ab\"")
  T.truthy(err:find("srm.re: missing closing parenthesis", 1, true), "pcre2 message kept")
  err = T.raises(function() re.compile(string.rep("é", 40) .. "[") end, "at offset 81")
  T.truthy(err:find('"' .. string.rep("é", 30) .. '..."', 1, true), "pattern cut at 60 bytes")
  T.raises(function() re.compile("a\xff") end, "UTF-8 error")
  T.raises(function() re.compile("a", "q") end, "unknown flag 'q'")
  T.raises(function() re.compile("a", "iZ") end, "unknown flag 'Z'")
  T.raises(function() re.compile({}) end, "bad argument #1")
  T.raises(function() re.find("x", "a", "?") end, "unknown flag '?'")
  T.raises(function() re.compile("\\C") end, "using \\C is disabled")
end)

T.case("flags", function()
  local rows = {
    { "abc", "i", "xABCx", { 2, 4 } },
    { "^b", "", "a\nb", { "<nil>" } },
    { "^b", "m", "a\nb", { 3, 3 } },
    { "a.b", "", "a\nb", { "<nil>" } },
    { "a.b", "s", "a\nb", { 1, 3 } },
    { "a b # comment", "x", "xab", { 2, 3 } },
    { "b", "A", "ab", { "<nil>" } },
    { "b", "A", "ba", { 1, 1 } },
    { "\\w+", "", "é1", { 1, 3 } },
    { "\\w+", "a", "é1", { 3, 3 } },
    { "é", "ia", "É", { 1, 2 } }, -- UTF mode stays on: Unicode case folding still applies
    { "b", "imsx", "B", { 1, 1 } },
  }
  for i, r in ipairs(rows) do
    T.eq(res(re.compile(r[1], r[2]):find(r[3])), r[4], "flags row " .. i)
  end
end)

T.case("find: positions, captures, init, unset groups", function()
  local rows = {
    -- pattern, subject, init, expected results
    { "(\\w+)@(\\w+)", "mail: bob@host x", nil, { 7, 14, "bob", "host" } },
    { "o", "foo boo", nil, { 2, 2 } },
    { "o", "foo boo", 4, { 6, 6 } },
    { "o", "foo boo", -2, { 6, 6 } },
    { "o", "foo boo", -100, { 2, 2 } },
    { "o", "foo boo", 0, { 2, 2 } },
    { "$", "foo", 4, { 4, 3 } },
    { "o", "foo", 5, { "<nil>" } },
    { "x", "foo", nil, { "<nil>" } },
    { "(a)|(b)", "b", nil, { 1, 1, false, "b" } },
    { "(a)(x)?", "a", nil, { 1, 1, "a", false } },
    { "", "", nil, { 1, 0 } },
    { "(?<=a)b", "ab", 2, { 2, 2 } }, -- lookbehind sees text before init
    { "\\bfoo", "xfoo foo", 2, { 6, 8 } },
  }
  for i, r in ipairs(rows) do
    T.eq(res(re.compile(r[1]):find(r[2], r[3])), r[4], "find row " .. i)
    T.eq(res(re.find(r[2], r[1], nil, r[3])), r[4], "re.find row " .. i)
  end
end)

T.case("match and test", function()
  local rows = {
    { "(\\d+)-(\\d+)", "tel 12-345", nil, { "12", "345" }, true },
    { "\\d+", "tel 12-345", nil, { "12" }, true },
    { "\\d+", "tel 12-345", 8, { "345" }, true },
    { "(\\d+)|(x)", "x", nil, { false, "x" }, true },
    { "z", "abc", nil, { "<nil>" }, false },
    { "a", "abc", 10, { "<nil>" }, false },
  }
  for i, r in ipairs(rows) do
    local rx = re.compile(r[1])
    T.eq(res(rx:match(r[2], r[3])), r[4], "match row " .. i)
    T.eq(res(re.match(r[2], r[1], "", r[3])), r[4], "re.match row " .. i)
    T.eq(rx:test(r[2], r[3]), r[5], "test row " .. i)
    T.eq(re.test(r[2], r[1], nil, r[3]), r[5], "re.test row " .. i)
  end
end)

T.case("exec: positions, numbered and named groups, unset groups", function()
  local rx = re.compile("(?<year>\\d{4})-(?<month>\\d\\d)(?:-(?<day>\\d\\d))?")
  T.eq(rx:exec("on 2024-05 ok"),
    { start = 4, finish = 10, "2024", "05", false, year = "2024", month = "05", day = false })
  T.eq(rx:exec("on 2024-05-17"),
    { start = 4, finish = 13, "2024", "05", "17", year = "2024", month = "05", day = "17" })
  T.eq(rx:exec("1999-01 and 2000-02", 8), { start = 13, finish = 19, "2000", "02", false,
    year = "2000", month = "02", day = false })
  T.eq(rx:exec("none"), nil)
  T.eq(re.exec("ab", "(?J)(?<n>a)|(?<n>b)", nil, 2), { start = 2, finish = 2, false, "b", n = "b" })
  T.eq(re.exec("xyz", "y"), { start = 2, finish = 2 })
end)

T.case("UTF-8 subjects: \\w, classes, positions, caseless Unicode", function()
  local rows = {
    { "\\w+", "", "-- café --", { 4, 8 } },
    { "\\w+", "", "日本語テキスト!", { 1, 21 } },
    { "\\p{Han}+", "", "abc漢字def", { 4, 9 } },
    { ".", "", "😀x", { 1, 4 } },
    { "x.y", "", "x😀y", { 1, 6 } },
    { "\\w", "", "😀", { "<nil>" } },
    { "école", "i", "ÉCOLE", { 1, 6 } },
    { "ÉCOLE", "i", "une école", { 5, 10 } },
    { "é", "", "É", { "<nil>" } },
    { "straße", "i", "STRASSE", { "<nil>" } }, -- simple case folding only
    { "\\d+", "", "x٣٤", { 2, 5 } },            -- Arabic-Indic digits under UCP
    { "\\d+", "a", "x٣٤5", { 6, 6 } },
  }
  for i, r in ipairs(rows) do
    T.eq(res(re.find(r[3], r[1], r[2])), r[4], "utf8 row " .. i)
  end
  local words = {}
  for w in re.compile("\\w+"):gmatch("Ünïcödé wörds 日本 ok") do words[#words + 1] = w end
  T.eq(words, { "Ünïcödé", "wörds", "日本", "ok" })
end)

T.case("gmatch: captures, whole match, empty matches advance by one character", function()
  local function collect(rx, s, init)
    local out = {}
    for a, b in rx:gmatch(s, init) do out[#out + 1] = b == nil and a or { a, b } end
    return out
  end
  T.eq(collect(re.compile("(\\w)=(\\w)"), "a=1, b=2,c=3"), { { "a", "1" }, { "b", "2" }, { "c", "3" } })
  T.eq(collect(re.compile("\\d+"), "1 22 333"), { "1", "22", "333" })
  T.eq(collect(re.compile("\\d+"), "1 22 333", 3), { "22", "333" })
  T.eq(collect(re.compile("x*"), "héllo"), { "", "", "", "", "", "" })
  T.eq(collect(re.compile(""), "é日😀"), { "", "", "", "" })
  T.eq(collect(re.compile("\\w*"), "ab cd"), { "ab", "cd" }) -- Lua 5.4 rule, like string.gmatch
  T.eq(collect(re.compile("a|"), "baa"), { "", "a", "a" })
  T.eq(collect(re.compile("(a)|(b)"), "ab"), { { "a", false }, { false, "b" } })
  T.eq(collect(re.compile("x"), ""), {})
  local n = 0
  for _ in re.gmatch("a1b2c3", "\\d") do n = n + 1 end
  T.eq(n, 3)
  -- same behaviour as string.gmatch for a plain pattern with empty matches
  local mine, lua = {}, {}
  for w in re.compile("a*"):gmatch("baaac") do mine[#mine + 1] = w end
  for w in string.gmatch("baaac", "a*") do lua[#lua + 1] = w end
  T.eq(mine, lua)
end)

T.case("gsub: string replacement with % escapes", function()
  local rows = {
    { "(\\w+)@(\\w+)", "bob@host, amy@net", "%2 at %1", nil, "host at bob, net at amy", 2 },
    { "\\d+", "a1b22", "<%0>", nil, "a<1>b<22>", 2 },
    { "\\d+", "a1b22", "<%1>", nil, "a<1>b<22>", 2 }, -- %1 is the whole match without groups
    { "\\d+", "a1b22", "100%%", nil, "a100%b100%", 2 },
    { "o", "foo boo", "0", 2, "f00 boo", 2 },
    { "o", "foo", "0", 0, "foo", 0 },
    { "o", "foo", "0", -1, "foo", 0 },
    { "(a)(x)?", "aa", "[%2]", nil, "[][]", 2 },
    { "x*", "abc", "-", nil, "-a-b-c-", 4 },
    { "\\w*", "hello world", "x", nil, "x x", 2 }, -- same as string.gsub in Lua 5.4
    { "", "é日", ".", nil, ".é.日.", 3 },
    { "é", "éÉé", "e", nil, "eÉe", 2 },
    { "z", "abc", "!", nil, "abc", 0 },
    { "^", "abc", ">", nil, ">abc", 1 },
    { "$", "abc", "<", nil, "abc<", 1 },
  }
  for i, r in ipairs(rows) do
    T.eq(res(re.compile(r[1]):gsub(r[2], r[3], r[4])), { r[5], r[6] }, "gsub row " .. i)
    T.eq(res(re.gsub(r[2], r[1], r[3], nil, r[4])), { r[5], r[6] }, "re.gsub row " .. i)
  end
  T.eq(res(string.gsub("hello world", "%w*", "x")), { "x x", 2 }, "Lua 5.4 reference")
  T.eq(res(re.gsub("a1", "\\d", 7)), { "a7", 1 }, "number replacement")
  T.raises(function() re.gsub("abc", "b", "%") end, "invalid use of '%'")
  T.raises(function() re.gsub("abc", "b", "%x") end, "invalid use of '%'")
  T.raises(function() re.gsub("abc", "(b)", "%2") end, "invalid capture index %2")
  T.raises(function() re.gsub("abc", "b", true) end, "bad argument #3")
  T.raises(function() re.compile("b"):gsub("abc") end, "bad argument #2")
end)

T.case("gsub: table and function replacements", function()
  local vars = { name = "Ada", lang = "Lua", n = 3 }
  T.eq(res(re.gsub("$name likes $lang ($none) $n", "\\$(\\w+)", vars)),
    { "Ada likes Lua ($none) 3", 4 })
  T.eq(res(re.gsub("a b", "\\w", { a = "A", b = false })), { "A b", 2 })
  T.eq(res(re.gsub("x=1, y=2", "(\\w)=(\\d)", function(k, v) return v .. "=" .. k end)),
    { "1=x, 2=y", 2 })
  T.eq(res(re.gsub("abc", "\\w", function(c) if c == "b" then return nil end return c:upper() end)),
    { "AbC", 3 })
  local seen = {}
  re.gsub("ab", "(a)|(b)", function(a, b) seen[#seen + 1] = { a, b } end)
  T.eq(seen, { { "a", false }, { false, "b" } })
  T.eq(res(re.gsub("a1", "\\d", function() return 2.5 end)), { "a2.5", 1 })
  T.raises(function() re.gsub("abc", "b", function() return {} end) end,
    "invalid replacement value (a table)")
  T.raises(function() re.gsub("abc", "b", function() error("boom") end) end, "boom")
  -- the callback may use the same regex (and the cached one) while the outer gsub runs
  local rx = re.compile("(\\w)(\\w)")
  local out = rx:gsub("abcd", function(a, b)
    local inner = rx:gsub(b .. a .. "xy", "%2%1")
    return inner .. re.gsub(a, "(\\w)(\\w)", "!") .. "|"
  end)
  T.eq(out, "abyx" .. "a|" .. "cdyx" .. "c|")
end)

T.case("split", function()
  local rows = {
    { ",", "a,b,c", nil, { "a", "b", "c" } },
    { ",", ",a,", nil, { "", "a", "" } },
    { ",", "", nil, { "" } },
    { ",", "abc", nil, { "abc" } },
    { "\\s*,\\s*", "a , b,c ,d", nil, { "a", "b", "c", "d" } },
    { ",", "a,b,c,d", 2, { "a", "b,c,d" } },
    { ",", "a,b,c,d", 1, { "a,b,c,d" } },
    { "", "abc", nil, { "a", "b", "c" } },
    { "", "é日😀", nil, { "é", "日", "😀" } },
    { "", "", nil, { "" } },
    { " *", "a  b", nil, { "a", "b" } },
    { "x*", "axxb", nil, { "a", "b" } },
    { "(,)", "a,b", nil, { "a", "b" } }, -- groups are not returned
    { ",,", "a,,,b", nil, { "a", ",b" } },
  }
  for i, r in ipairs(rows) do
    T.eq(re.compile(r[1]):split(r[2], r[3]), r[4], "split row " .. i)
    T.eq(re.split(r[2], r[1], nil, r[3]), r[4], "re.split row " .. i)
  end
  T.raises(function() re.split("a,b", ",", nil, 0) end, "max must be at least 1")
  T.eq(re.split("A1b2C", "[a-z]", "i"), { "", "1", "2", "" })
end)

T.case("escape makes any text literal, also under the x flag", function()
  T.eq(re.escape("a.b*c d"), "a\\.b\\*c\\ d")
  T.eq(re.escape("\0\n"), "\\x00\\x0a")
  local texts = { "1+1=2?", "(a|b)[c]{d}^$\\", "# not a comment", "tab\there\nnl", "a\0b",
    "émoji 😀.*", "%%%1" }
  for _, s in ipairs(texts) do
    for _, flags in ipairs({ "", "x", "i" }) do
      T.eq(res(re.find("<<" .. s .. ">>", re.escape(s), flags)), { 3, #s + 2 }, s .. " /" .. flags)
    end
  end
end)

T.case("catastrophic backtracking returns MATCH_LIMIT quickly", function()
  local subject = string.rep("a", 30) .. "b"
  local t0 = os.clock()
  T.eq(res(re.find(subject, "(a+)+$")), { "<nil>", "srm.re: match limit exceeded", "MATCH_LIMIT" })
  T.eq(res(re.compile("(a+)+$"):test(subject)), { "<nil>", "srm.re: match limit exceeded", "MATCH_LIMIT" })
  -- the interpreter (no JIT) honours the same limit
  T.eq(select(3, re.find(subject, "(*NO_JIT)(a+)+$")), "MATCH_LIMIT")
  T.truthy(os.clock() - t0 < 5, "bounded time")
  local old = re.set_limits { match = 1000 }
  T.eq(old, { match = 10000000, depth = 100000, heap_kib = 65536 })
  T.eq(select(3, re.find(string.rep("a", 18) .. "b", "(a+)+$")), "MATCH_LIMIT")
  T.eq(select(3, re.gsub(subject, "(a+)+$", "")), "MATCH_LIMIT")
  T.eq(select(3, re.split(subject, "(a+)+$")), "MATCH_LIMIT")
  T.eq(re.find("aab", "a+b"), 1, "simple matches still work")
  T.eq(re.set_limits(old), { match = 1000, depth = 100000, heap_kib = 65536 })
end)

T.case("depth and heap limits, and the JIT stack", function()
  local long = string.rep("ab", 200000) .. "c"
  local old = re.set_limits {}
  T.eq(res(re.find(long, "(*NO_JIT)(?:(a)|b)*c")),
    { "<nil>", "srm.re: matching depth limit exceeded", "DEPTH_LIMIT" })
  re.set_limits { depth = 10000000, heap_kib = 100 }
  T.eq(res(re.find(long, "(*NO_JIT)(?:(a)|b)*c")),
    { "<nil>", "srm.re: heap limit exceeded", "HEAP_LIMIT" })
  re.set_limits(old)
  if re.jit then -- the JIT ignores depth/heap; its bounded stack reports DEPTH_LIMIT
    T.eq(select(3, re.find(long, "(?:(a)|b)*c")), "DEPTH_LIMIT")
  end
  T.eq(res(re.find(long, "(?:a|b)*+c")), { 1, #long }, "possessive needs no backtracking")
  T.raises(function() re.set_limits { matches = 5 } end, "unknown option 'matches'")
  T.raises(function() re.set_limits { match = 0 } end, "must be an integer")
  T.raises(function() re.set_limits { depth = 2.5 } end, "must be an integer")
  T.raises(function() re.set_limits(5) end, "bad argument #1")
  T.eq(re.set_limits {}, old, "failed calls changed nothing")
end)

T.case("invalid UTF-8 subjects return BAD_UTF8 from every function", function()
  local bad = "ok \xff\xfe bytes"
  local rx = re.compile("\\w+")
  local function code(...) local t = pack(...); T.eq(t[1], nil); return t[3], t[2] end
  local c, msg = code(rx:find(bad))
  T.eq(c, "BAD_UTF8")
  T.truthy(msg:find("at byte 4", 1, true), "message gives the byte: " .. msg)
  T.eq(code(rx:match(bad)), "BAD_UTF8")
  T.eq(code(rx:test(bad)), "BAD_UTF8")
  T.eq(code(rx:exec(bad)), "BAD_UTF8")
  T.eq(code(rx:gsub(bad, "x")), "BAD_UTF8")
  T.eq(code(rx:split(bad)), "BAD_UTF8")
  T.eq(code(re.find(bad, "x")), "BAD_UTF8")
  T.eq(code(re.gsub("\xc3", "x", "y")), "BAD_UTF8") -- truncated sequence
  T.eq(code(re.find("\xed\xa0\x80", "x")), "BAD_UTF8") -- encoded surrogate
  T.eq(code(re.find("\xc0\xaf", "x")), "BAD_UTF8") -- overlong
  local iter = rx:gmatch(bad)
  T.eq(code(iter()), "BAD_UTF8")
  T.eq(iter(), nil, "the iterator stays finished")
  -- init inside a character
  T.eq(res(re.find("héllo", "l", nil, 3)),
    { "<nil>", "srm.re: init is not at the start of a UTF-8 character", "BAD_UTF8" })
  T.eq(res(re.find("héllo", "l", nil, 4)), { 4, 4 })
end)

T.case("many captures (ovector beyond the on-stack buffer)", function()
  local pat = string.rep("(\\w)", 20)
  local s = "abcdefghijklmnopqrstuvwxyz"
  local caps = pack(re.match(s, pat))
  T.eq(caps.n, 20)
  T.eq(caps[1] .. caps[20], "at")
  local out = re.compile(pat):gsub(s, "%9%1")
  T.eq(out, "iauvwxyz")
  local n = 0
  for a in re.gmatch(s, pat) do n = n + 1; T.eq(a, "a") end
  T.eq(n, 1)
  T.eq(re.exec(s, pat)[20], "t")
end)

T.case("the compile cache keeps working past 256 distinct patterns", function()
  for round = 1, 2 do
    for i = 1, 300 do
      local s, e, cap = re.find("id-" .. i .. "-x", "id-(" .. i .. ")-x")
      T.eq({ s, e, cap }, { 1, #tostring(i) + 5, tostring(i) }, "round " .. round .. " pattern " .. i)
    end
  end
  -- same pattern with different flags are different entries
  T.eq(re.find("ABC", "b"), nil)
  T.eq(re.find("ABC", "b", "i"), 2)
  T.eq(re.find("ABC", "b"), nil)
end)

T.case("garbage collection of many regexes", function()
  for i = 1, 3000 do
    local rx = re.compile("(x" .. i .. ")|(?<n>y)" .. string.rep("(z)?", i % 25))
    if i % 100 == 0 then T.eq(rx:find("x" .. i), 1) end
  end
  collectgarbage()
  collectgarbage()
  local keep = re.compile("k+")
  local iters = {}
  for i = 1, 200 do iters[i] = re.compile("(" .. i .. ")"):gmatch(i .. "," .. i) end
  collectgarbage() -- the iterators keep their regexes alive
  for i = 1, 200 do T.eq(iters[i](), tostring(i)) end
  iters = nil
  collectgarbage()
  T.eq(keep:match("akkk"), "kkk")
end)

T.case("random subjects: same results as the string library, codes only from the set", function()
  math.randomseed(7)
  local alphabet = { "a", "b", "c", " ", "é", "日", "😀", "\xff", "\xc3", "\n" }
  local function subject(valid)
    local parts = {}
    for i = 1, math.random(0, 12) do
      local k = math.random(1, valid and 3 or #alphabet)
      parts[i] = alphabet[k]
    end
    return table.concat(parts)
  end
  -- patterns that mean the same in Lua patterns and PCRE2, on ASCII subjects
  local same = { { "a", "a" }, { "ab*", "ab*" }, { "[abc]+", "[abc]+" }, { "b*", "b*" },
    { "(a)(b?)", "(a)(b?)" }, { "^a*", "^a*" }, { "c$", "c$" }, { "", "" } }
  for _ = 1, 300 do
    local s = subject(true)
    for _, p in ipairs(same) do
      T.eq(res(re.gsub(s, p[2], "<%0>")), res(string.gsub(s, p[1], "<%0>")), p[2] .. " on " .. s)
      if p[1]:sub(1, 1) ~= "^" then -- string.gmatch takes a leading ^ literally
        local mine, lua = {}, {}
        for m in re.gmatch(s, p[2]) do mine[#mine + 1] = m end
        for m in string.gmatch(s, p[1]) do lua[#lua + 1] = m end
        T.eq(mine, lua, "gmatch " .. p[2] .. " on " .. s)
      end
      T.eq(res(re.find(s, p[2])), res(string.find(s, p[1])), "find " .. p[2] .. " on " .. s)
    end
  end
  local codes = { BAD_UTF8 = true }
  local patterns = { "\\w*", "(.)(?=.)", "\\b", "x*|é", "(?<n>日)?" }
  for _ = 1, 300 do
    local s = subject(false)
    for _, p in ipairs(patterns) do
      local rx = re.compile(p)
      local checks = { pack(rx:find(s)), pack(rx:gsub(s, "%0")), pack(rx:split(s)),
        pack(rx:exec(s, 2)), pack(rx:gmatch(s)()) }
      for _, r in ipairs(checks) do
        if r[1] == nil and r.n == 3 then T.truthy(codes[r[3]], "code " .. tostring(r[3])) end
      end
      if utf8.len(s) then T.eq(rx:gsub(s, "%0"), s, "identity gsub") end
    end
  end
end)

T.done()
