-- srm.text: Unicode words, sentences, paragraphs, lines, case, normalization, letter and script
-- counts, trimming. Case expectations pin libutf8proc 2.8 (Unicode 15, Debian 12).
local T = dofile("tests/lua/testlib.lua")
local text = require "srm.text"

local ACUTE = "\u{301}" -- combining acute accent (Mn)
local FFFD = "\u{FFFD}"

-- valid_utf8 and len --------------------------------------------------------------------------

T.case("valid_utf8 accepts valid text and reports the first bad byte", function()
  local rows = {
    {"", true},
    {"hello", true},
    {"café 日本 😀", true},
    {"a\0b", true},
    {"\xff", false, 1},
    {"ab\xe2\x82c", false, 3},        -- truncated 3-byte sequence
    {"abc\xe2\x82", false, 4},        -- truncated at the end
    {"\xc0\xaf", false, 1},           -- overlong "/"
    {"x\xed\xa0\x80", false, 2},      -- UTF-16 surrogate
    {"\xf4\x90\x80\x80", false, 1},   -- above U+10FFFF
    {"ok\x80", false, 3},             -- lone continuation byte
  }
  for _, r in ipairs(rows) do
    local ok, at = text.valid_utf8(r[1])
    T.eq(ok, r[2], "valid_utf8(" .. T.show(r[1]) .. ")")
    T.eq(at, r[3], "offset for " .. T.show(r[1]))
  end
end)

T.case("len counts code points; each invalid byte counts as one", function()
  T.eq(text.len(""), 0)
  T.eq(text.len("héllo"), 5)
  T.eq(text.len("日本語"), 3)
  T.eq(text.len("cafe" .. ACUTE), 5)
  T.eq(text.len("👍🏽"), 2)
  T.eq(text.len("h\xe2\x82llo"), 6)
  T.eq(text.len("\xff\xfe"), 2)
end)

-- words ----------------------------------------------------------------------------------------

T.case("words are runs of letters, marks, digits and connector punctuation", function()
  local rows = {
    {"", {}},
    {"Hello, world!", {"Hello", "world"}},
    {"snake_case and x‿y", {"snake_case", "and", "x‿y"}},   -- U+203F is Pc
    {"Pi is 3.14", {"Pi", "is", "3", "14"}},
    {"don't stop", {"don", "t", "stop"}},
    {"café", {"café"}},
    {"cafe" .. ACUTE .. " au lait", {"cafe" .. ACUTE, "au", "lait"}},
    {"Привет, мир", {"Привет", "мир"}},
    {"नमस्ते दुनिया", {"नमस्ते", "दुनिया"}},                -- virama and vowel signs are marks
    {"日本語のテキスト", {"日本語のテキスト"}},
    {"٣ apples ٤", {"٣", "apples", "٤"}},                  -- Arabic-Indic digits are Nd
    {"½ x²", {"x"}},                                       -- No is not a word character
    {"I ❤️ Lua 👍🏽!", {"I", "Lua"}},                       -- emoji, VS16 and skin tone are not words
    {ACUTE .. "x", {"x"}},                                 -- a mark does not start a word
    {"1️⃣ go", {"1️⃣", "go"}},                              -- keycap marks continue the digit
    {"a\u{200D}b", {"a", "b"}},                            -- ZWJ (Cf) separates
  }
  for _, r in ipairs(rows) do
    T.eq(text.words(r[1]), r[2], "words(" .. T.show(r[1]) .. ")")
    T.eq(text.count_words(r[1]), #r[2], "count_words(" .. T.show(r[1]) .. ")")
  end
end)

T.case("combining-acute café counts as one word, like precomposed café", function()
  T.eq(text.count_words("cafe" .. ACUTE), 1)
  T.eq(text.count_words("café"), 1)
  T.eq(text.count_words("na\u{308}ive cafe" .. ACUTE .. "s"), 2)
end)

T.case("words and count_words on invalid UTF-8: bad bytes separate words", function()
  T.eq(text.words("ab\xffcd"), {"ab", "cd"})
  T.eq(text.count_words("ab\xffcd"), 2)
  T.eq(text.words("\xe2\x82"), {})
  T.eq(text.words("é\xccx"), {"é", "x"})
end)

-- sentences ------------------------------------------------------------------------------------

T.case("sentences split after terminators followed by whitespace or the end", function()
  local rows = {
    {"", {}},
    {"   \n ", {}},
    {"One sentence", {"One sentence"}},
    {"Hello world. How are you? Fine!", {"Hello world.", "How are you?", "Fine!"}},
    {"  Leading and trailing.   Spaces.  ", {"Leading and trailing.", "Spaces."}},
    {"Wait... what?! Really?!", {"Wait...", "what?!", "Really?!"}},
    {"Hmm… okay.", {"Hmm…", "okay."}},
    {"Line one.\nLine two.", {"Line one.", "Line two."}},
    {"end.Next is glued", {"end.Next is glued"}},
    {'He said "Hi." Then he left.', {'He said "Hi."', "Then he left."}},
    {"(Quoted!) Next one.", {"(Quoted!)", "Next one."}},
    {"«Oui.» Non.", {"«Oui.»", "Non."}},
  }
  for _, r in ipairs(rows) do
    T.eq(text.sentences(r[1]), r[2], "sentences(" .. T.show(r[1]) .. ")")
    T.eq(text.count_sentences(r[1]), #r[2], "count_sentences(" .. T.show(r[1]) .. ")")
  end
end)

T.case("sentences do not split after abbreviations, initials or inside numbers", function()
  local rows = {
    {"Mr. Smith met Mrs. Jones and Ms. Lee.", {"Mr. Smith met Mrs. Jones and Ms. Lee."}},
    {"Dr. Who and Prof. X met Sr. Y and Jr. Z on St. Mark's day.", 1},
    {"Cats vs. dogs, etc. are fine.", 1},
    {"Use tools, e.g. hammers, i.e. heavy ones.", 1},
    {"The U.S. economy grew. It did.", {"The U.S. economy grew.", "It did."}},
    {"We met at 9 a.m. and left at 5 p.m. sharp.", 1},
    {"Pi is 3.14 and e is 2.718. Both are irrational.",
      {"Pi is 3.14 and e is 2.718.", "Both are irrational."}},
    {"J. Smith wrote it. J. R. R. Tolkien too.", {"J. Smith wrote it.", "J. R. R. Tolkien too."}},
    {"The U.S.A. is large.", 1},
    {"(Dr. Strange) arrived.", 1},
    {"MR. BIG and DR. NO.", 1},                         -- abbreviations match ASCII-case-blind
    {"So did I. Then we left.", {"So did I.", "Then we left."}}, -- "I." is not an initial
    {"We want more, etc.! Next.", {"We want more, etc.!", "Next."}}, -- only a lone period is held
  }
  for _, r in ipairs(rows) do
    local want = type(r[2]) == "number" and {r[1]} or r[2]
    T.eq(text.sentences(r[1]), want, "sentences(" .. T.show(r[1]) .. ")")
    T.eq(text.count_sentences(r[1]), #want, "count_sentences(" .. T.show(r[1]) .. ")")
  end
end)

T.case("CJK terminators split without whitespace", function()
  T.eq(text.sentences("你好。我很好！谢谢？"), {"你好。", "我很好！", "谢谢？"})
  T.eq(text.sentences("今日は晴れです。明日は雨でしょう"), {"今日は晴れです。", "明日は雨でしょう"})
  T.eq(text.sentences("他说：「好。」然后走了。"), {"他说：「好。」", "然后走了。"})
  T.eq(text.sentences("真的？！是的。"), {"真的？！", "是的。"})
  T.eq(text.count_sentences("一。二。三。"), 3)
end)

T.case("sentences keep invalid bytes and still split", function()
  T.eq(text.sentences("Bad \xff byte. Next\xfe!"), {"Bad \xff byte.", "Next\xfe!"})
  T.eq(text.count_sentences("\xff. \xfe."), 2)
  T.eq(text.sentences("\xe2\x80"), {"\xe2\x80"}) -- truncated "…" is not a terminator
end)

T.case("sentence splitting stays linear on pathological input", function()
  local dots = string.rep(".", 200000)
  T.eq(text.count_sentences(dots), 1)
  T.eq(text.count_sentences(string.rep("a. ", 100000)), 100000)
  T.eq(text.count_sentences(string.rep("J. ", 1000) .. "x"), 1)
end)

-- paragraphs and lines -------------------------------------------------------------------------

T.case("paragraphs split on blank or whitespace-only lines", function()
  local rows = {
    {"", {}},
    {"\n\n  \n", {}},
    {"one paragraph", {"one paragraph"}},
    {"line 1\nline 2", {"line 1\nline 2"}},
    {"p1\n\np2", {"p1", "p2"}},
    {"p1\n \t \np2\n\n\n\np3", {"p1", "p2", "p3"}},
    {"p1\r\n\r\np2\r\r p3 ", {"p1", "p2", "p3"}},
    {"  first \n second  \n\u{3000}\n\u{A0}third", {"first \n second", "third"}},
    {"\n\n  lead\n\n", {"lead"}},
  }
  for _, r in ipairs(rows) do
    T.eq(text.paragraphs(r[1]), r[2], "paragraphs(" .. T.show(r[1]) .. ")")
  end
end)

T.case("paragraphs: a line holding an invalid byte is not blank", function()
  T.eq(text.paragraphs("a\n\xff\nb\n\n c"), {"a\n\xff\nb", "c"})
  T.eq(text.paragraphs("\xff\n\n\xfe"), {"\xff", "\xfe"})
end)

T.case("lines split on \\n, \\r\\n and \\r and keep empty lines", function()
  local rows = {
    {"", {}},
    {"a", {"a"}},
    {"a\n", {"a"}},
    {"\n", {""}},
    {"a\n\nb", {"a", "", "b"}},
    {"a\r\nb\rc\n", {"a", "b", "c"}},
    {"a\n\r\nb", {"a", "", "b"}},
    {"a\r\r\n", {"a", ""}},
    {" x \n\n", {" x ", ""}},
    {"bad\xff\nline", {"bad\xff", "line"}},
  }
  for _, r in ipairs(rows) do T.eq(text.lines(r[1]), r[2], "lines(" .. T.show(r[1]) .. ")") end
end)

-- case -----------------------------------------------------------------------------------------

T.case("upper, lower and casefold follow utf8proc", function()
  T.eq(text.upper("Hello, World 123"), "HELLO, WORLD 123")
  T.eq(text.lower("Hello, World 123"), "hello, world 123")
  -- German: utf8proc 2.8 maps ß to capital ẞ (U+1E9E), one code point; Python gives "SS".
  T.eq(text.upper("straße"), "STRAẞE")
  T.eq(text.lower("STRAẞE"), "straße")
  T.eq(text.casefold("Straße"), "strasse") -- full folding expands ß
  -- Turkish dotted/dotless i without locale rules: simple mappings.
  T.eq(text.upper("istanbul ı"), "ISTANBUL I")
  T.eq(text.lower("İSTANBUL"), "istanbul")        -- İ -> i (simple mapping, no U+0307)
  T.eq(text.casefold("İ"), "i\u{307}")            -- full folding keeps the dot
  -- Greek: no final-sigma context in simple mapping (Python's lower gives "σας").
  T.eq(text.upper("σας"), "ΣΑΣ")
  T.eq(text.lower("ΣΑΣ"), "σασ")
  T.eq(text.casefold("ς"), "σ")
  T.eq(text.upper("ǆ ǅ"), "Ǆ Ǆ")
  T.eq(text.lower("Ǆ ǅ"), "ǆ ǆ")
  T.eq(text.casefold("ﬁ"), "fi")
  T.eq(text.upper("日本 😀"), "日本 😀")
  T.eq(text.upper("cafe" .. ACUTE), "CAFE" .. ACUTE)
end)

T.case("case mapping writes U+FFFD for each invalid byte", function()
  T.eq(text.upper("ab\xffcd"), "AB" .. FFFD .. "CD")
  T.eq(text.lower("AB\xe2\x82"), "ab" .. FFFD .. FFFD)
  T.eq(text.casefold("SS\xc0"), "ss" .. FFFD)
  T.eq(text.valid_utf8(text.upper("\xff\xfe\xfd")), true)
end)

T.case("is_upper and is_lower follow Python str semantics", function()
  local rows = {
    -- s, is_upper, is_lower
    {"HELLO 123", true, false},
    {"hello 123", false, true},
    {"123", false, false},
    {"", false, false},
    {"Hello", false, false},
    {"ΑΒΓ", true, false},
    {"αβγ", false, true},
    {"straße", false, true},
    {"İ", true, false},
    {"ı", false, true},
    {"ǅ", false, false},          -- titlecase is neither
    {"ǄA", true, false},
    {"日本", false, false},         -- uncased letters
    {"ABC日本", true, false},
    {"Ⓐ", true, false},           -- circled letters are cased (So)
    {"ʰ", false, true},           -- modifier letter, Other_Lowercase
    {"A\xff", true, false},       -- invalid byte is uncased
    {"\xff", false, false},
  }
  for _, r in ipairs(rows) do
    T.eq(text.is_upper(r[1]), r[2], "is_upper(" .. T.show(r[1]) .. ")")
    T.eq(text.is_lower(r[1]), r[3], "is_lower(" .. T.show(r[1]) .. ")")
  end
end)

T.case("is_title follows Python str.istitle", function()
  local rows = {
    {"Hello World", true}, {"Hello world", false}, {"HELLO", false}, {"", false},
    {"123", false}, {"Hello 123 World!", true}, {"ǅungla", true}, {"Über Ärger", true},
    {"O'Neil", true}, {"A\xffB", true}, {"aB", false},
  }
  for _, r in ipairs(rows) do T.eq(text.is_title(r[1]), r[2], "is_title(" .. T.show(r[1]) .. ")") end
end)

-- normalize ------------------------------------------------------------------------------------

T.case("normalize composes and decomposes", function()
  local composed, decomposed = "caf\u{E9}", "cafe\u{301}"
  T.eq(text.normalize(decomposed), composed)
  T.eq(text.normalize(decomposed, "NFC"), composed)
  T.eq(text.normalize(composed, "NFD"), decomposed)
  T.eq(text.normalize("ﬁ x² Ⅳ", "NFKC"), "fi x2 IV")
  T.eq(text.normalize("ﬁ", "NFC"), "ﬁ")
  T.eq(text.normalize("\u{1E9B}\u{323}", "NFKD"), "s\u{323}\u{307}")
  T.eq(text.normalize("\u{AC00}", "NFD"), "\u{1100}\u{1161}") -- Hangul syllable
  T.eq(text.normalize(""), "")
  T.eq(text.normalize("a\0b"), "a\0b")
end)

T.case("normalize is strict about UTF-8 and form names", function()
  local s, err, code = text.normalize("ab\xffc")
  T.eq(s, nil)
  T.eq(err, "srm.text.normalize: invalid UTF-8 at byte 3")
  T.eq(code, "BAD_UTF8")
  T.eq(select(3, text.normalize("\xed\xa0\x80", "NFD")), "BAD_UTF8")
  T.raises(function() text.normalize("x", "nfc") end, "srm.text.normalize: unknown form 'nfc'")
  T.raises(function() text.normalize("x", 1) end, "srm.text.normalize")
end)

-- letters --------------------------------------------------------------------------------------

T.case("letter_counts lowercases letters and skips everything else", function()
  T.eq(text.letter_counts("Hello, World!"), {h = 1, e = 1, l = 3, o = 2, w = 1, r = 1, d = 1})
  T.eq(text.letter_counts("AaBb 123 !?"), {a = 2, b = 2})
  T.eq(text.letter_counts("Ää Öö ÉÉ"), {["ä"] = 2, ["ö"] = 2, ["é"] = 2})
  T.eq(text.letter_counts("İi Iı"), {i = 3, ["ı"] = 1})
  T.eq(text.letter_counts("ΣΣς"), {["σ"] = 2, ["ς"] = 1})
  T.eq(text.letter_counts("日本日"), {["日"] = 2, ["本"] = 1})
  T.eq(text.letter_counts("cafe" .. ACUTE), {c = 1, a = 1, f = 1, e = 1}) -- marks are not letters
  T.eq(text.letter_counts(""), {})
  T.eq(text.letter_counts("a\xffA\xe2\x82"), {a = 2})
end)

T.case("letter_counts ascii option counts only A-Z and a-z", function()
  T.eq(text.letter_counts("Hello Wörld ÀB", {ascii = true}),
    {h = 1, e = 1, l = 3, o = 1, w = 1, r = 1, d = 1, b = 1})
  T.eq(text.letter_counts("\u{212A}", {ascii = true}), {}) -- Kelvin sign is not ASCII
  T.eq(text.letter_counts("\u{212A}"), {k = 1})            -- but lowercases to k
  T.eq(text.letter_counts("ab", {ascii = false}), {a = 1, b = 1})
  T.raises(function() text.letter_counts("x", {asci = true}) end,
    "srm.text.letter_counts: unknown option 'asci'")
  T.raises(function() text.letter_counts("x", {ascii = 1}) end, "srm.text.letter_counts")
  T.raises(function() text.letter_counts("x", "ascii") end, "srm.text.letter_counts")
end)

T.case("count_letter is case-insensitive and checks its letter", function()
  T.eq(text.count_letter("Banana BANANA", "a"), 6)
  T.eq(text.count_letter("Banana BANANA", "N"), 4)
  T.eq(text.count_letter("Straße STRAẞE", "ß"), 2)
  T.eq(text.count_letter("İstanbul in Izmir", "i"), 4) -- İ lowercases to i; I too
  T.eq(text.count_letter("ΣσςΣ", "σ"), 3)               -- final sigma is a different letter
  T.eq(text.count_letter("a.b.c", "."), 2)
  T.eq(text.count_letter("", "a"), 0)
  T.eq(text.count_letter("a\xffb\xfe", FFFD), 2)        -- invalid bytes read as U+FFFD
  T.raises(function() text.count_letter("abc", "ab") end, "srm.text.count_letter")
  T.raises(function() text.count_letter("abc", "") end, "srm.text.count_letter")
  T.raises(function() text.count_letter("abc", "\xff") end, "srm.text.count_letter")
  T.raises(function() text.count_letter("abc", "e" .. ACUTE) end, "srm.text.count_letter")
end)

T.case("category of a code point or of a string's first code point", function()
  T.eq(text.category("A"), "Lu")
  T.eq(text.category("abc"), "Ll")
  T.eq(text.category("ǅ"), "Lt")
  T.eq(text.category("ʰ"), "Lm")
  T.eq(text.category("日"), "Lo")
  T.eq(text.category(ACUTE), "Mn")
  T.eq(text.category("٣"), "Nd")
  T.eq(text.category("_"), "Pc")
  T.eq(text.category(" "), "Zs")
  T.eq(text.category("😀"), "So")
  T.eq(text.category("5"), "Nd")
  T.eq(text.category(5), "Cc")
  T.eq(text.category(0x41), "Lu")
  T.eq(text.category(65.0), "Lu")
  T.eq(text.category(0xD800), "Cs")
  T.eq(text.category(0x378), "Cn")
  T.eq(text.category(""), nil)
  T.eq(text.category("\xff"), "So") -- invalid byte reads as U+FFFD
  T.raises(function() text.category(-1) end, "srm.text.category")
  T.raises(function() text.category(0x110000) end, "srm.text.category")
  T.raises(function() text.category(1.5) end, "srm.text.category")
end)

-- scripts --------------------------------------------------------------------------------------

T.case("script_counts counts letters per script", function()
  T.eq(text.script_counts("Hello, мир! 123"), {Latin = 5, Cyrillic = 3})
  T.eq(text.script_counts(
    "Γειά שלום مرحبا नमस्ते বাংলা สวัสดี 漢字 ひら カタ 한국 ქართ Հայ ሰላም தமி తెలు ગુજ ਪੰਜ ಕನ್ನ മല"),
    {Greek = 4, Hebrew = 4, Arabic = 5, Devanagari = 4, Bengali = 2, Thai = 4, Han = 2,
      Hiragana = 2, Katakana = 2, Hangul = 2, Georgian = 4, Armenian = 3, Ethiopic = 3,
      Tamil = 2, Telugu = 2, Gujarati = 2, Gurmukhi = 2, Kannada = 3, Malayalam = 2})
  T.eq(text.script_counts("ᠮᠣ ⲁⲃ"), {Other = 4}) -- Mongolian, Coptic
  T.eq(text.script_counts("Ωmega ｆｕｌｌ"), {Greek = 1, Latin = 8})
  T.eq(text.script_counts("123 !? 😀"), {})
  T.eq(text.script_counts("\xffabc\xfe"), {Latin = 3})
end)

T.case("dominant_script picks the script with most letters", function()
  T.eq(text.dominant_script("Привет, hi"), "Cyrillic")
  T.eq(text.dominant_script("東京は大きい"), "Han")
  T.eq(text.dominant_script("ab вг"), "Latin")  -- tie: earlier in the names list
  T.eq(text.dominant_script("ᠮᠣᠩ a"), "Other")
  T.eq(text.dominant_script("123 😀"), nil)
  T.eq(text.dominant_script(""), nil)
  T.eq(text.dominant_script("\xff\xfe"), nil)
end)

-- whitespace -----------------------------------------------------------------------------------

T.case("trim strips Unicode whitespace", function()
  T.eq(text.trim("  hi  "), "hi")
  T.eq(text.trim("\t\n\v\f\r hi there \r\n"), "hi there")
  T.eq(text.trim("\u{3000}\u{A0}\u{85}\u{2028}x\u{2029}\u{2003}"), "x")
  T.eq(text.trim("\u{200B}x\u{200B}"), "\u{200B}x\u{200B}") -- ZWSP is Cf, not whitespace
  T.eq(text.trim("   "), "")
  T.eq(text.trim(""), "")
  T.eq(text.trim(" \xff "), "\xff")
  T.eq(text.trim("\xe2\x80 "), "\xe2\x80")
end)

T.case("split_whitespace works like Python str.split()", function()
  T.eq(text.split_whitespace("  a  b\tc\nd  "), {"a", "b", "c", "d"})
  T.eq(text.split_whitespace("日本\u{3000}語\u{A0}x"), {"日本", "語", "x"})
  T.eq(text.split_whitespace(""), {})
  T.eq(text.split_whitespace(" \n "), {})
  T.eq(text.split_whitespace("a \xff b\xfe"), {"a", "\xff", "b\xfe"})
end)

-- arguments and robustness ---------------------------------------------------------------------

local one_string = {
  "valid_utf8", "len", "words", "count_words", "sentences", "count_sentences", "paragraphs",
  "lines", "upper", "lower", "casefold", "is_upper", "is_lower", "is_title", "normalize",
  "letter_counts", "script_counts", "dominant_script", "trim", "split_whitespace",
}

T.case("wrong argument types raise with the function name", function()
  for _, name in ipairs(one_string) do
    for _, bad in ipairs({{}, 42, true}) do
      T.raises(function() text[name](bad) end, "srm.text." .. name .. ":", name)
    end
    T.raises(function() text[name]() end, "srm.text." .. name .. ": argument #1 must be a string",
      name)
  end
  T.raises(function() text.count_letter(nil, "a") end, "srm.text.count_letter:")
  T.raises(function() text.count_letter("a", 1) end, "srm.text.count_letter:")
  T.raises(function() text.category({}) end, "srm.text.category:")
end)

T.case("every function survives random bytes with consistent results", function()
  math.randomseed(20240611)
  local pieces = {"a", "Z", " ", "\n", "\r", ".", "!", "?", "…", "。", "\"", ")", "é", ACUTE,
    "日", "\xff", "\xe2\x82", "\xc0", "\xed\xa0\x80", "\0", "_", "3", "Mr", "\u{3000}"}
  for _ = 1, 300 do
    local parts = {}
    for i = 1, math.random(0, 40) do
      if math.random() < 0.3 then parts[i] = string.char(math.random(0, 255))
      else parts[i] = pieces[math.random(#pieces)] end
    end
    local s = table.concat(parts)
    T.eq(text.count_words(s), #text.words(s), "count_words " .. T.show(s))
    T.eq(text.count_sentences(s), #text.sentences(s), "count_sentences " .. T.show(s))
    for _, name in ipairs(one_string) do text[name](s) end
    for _, name in ipairs({"upper", "lower", "casefold"}) do
      T.eq(text.valid_utf8(text[name](s)), true, name .. " output is valid UTF-8")
    end
    T.eq(text.count_letter(s, "a"), text.letter_counts(s).a or 0, "count_letter vs letter_counts")
    T.truthy(#text.trim(s) <= #s, "trim shrinks")
    T.eq(text.category(s) == nil, s == "", "category nil only for empty")
    if text.valid_utf8(s) then
      T.eq(text.len(s), utf8.len(s), "len agrees with utf8.len on valid input")
      T.eq(type(text.normalize(s)), "string", "normalize of valid input")
    else
      T.eq(select(3, text.normalize(s)), "BAD_UTF8", "normalize of invalid input")
    end
  end
end)

T.case("large inputs stay linear", function()
  local big = string.rep("Word word, ünïcödé 日本. ", 20000)
  T.eq(text.count_words(big), 80000)
  T.eq(text.count_sentences(big), 20000)
  T.eq(#text.paragraphs(string.rep("p\n\n", 50000)), 50000)
  T.eq(#text.lines(string.rep("\n", 100000)), 100000)
  T.eq(text.len(text.upper(big)), text.len(big))
end)

T.done()
