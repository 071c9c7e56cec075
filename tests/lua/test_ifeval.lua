-- srm.ifeval: the 25 IFEval checks (strict and loose), their building blocks (word, sentence and
-- capital-word counts, langdetect, JSON), kwargs validation, hostile input, and the evaluator's
-- expansion of one evidence into several components plus row detail.
local T = dofile("tests/lua/testlib.lua")
local ifeval = require "srm.ifeval"
local json = require "srm.json"

local function read_jsonl(path)
  local rows = {}
  for line in io.lines(path) do rows[#rows + 1] = json.decode(line) end
  return rows
end

local function check(id, kwargs, response)
  local s, l, code = ifeval.check(id, kwargs, response)
  if s == nil then error(id .. ": " .. tostring(l) .. " (" .. tostring(code) .. ")", 2) end
  return { s, l }
end

T.case("the 25 registered ids", function()
  T.eq(#ifeval.ids, 25, "count")
  T.eq(ifeval.ids[1], "keywords:existence")
  T.eq(ifeval.ids[25], "startend:quotation")
end)

-- {id, kwargs, response, {strict, loose}}
local CASES = {
  { "keywords:existence", { keywords = { "apple", "PEAR" } }, "An Apple and a pear.", { true, true } },
  { "keywords:existence", { keywords = { "apple", "kiwi" } }, "An apple.", { false, false } },
  { "keywords:existence", { keywords = { "app" } }, "An apple.", { true, true } }, -- no word boundary
  { "keywords:frequency", { keyword = "the", frequency = 3, relation = "at least" }, "The then other the", { true, true } },
  { "keywords:frequency", { keyword = " cat ", frequency = 2, relation = "less than" }, "cat Cat", { false, false } },
  { "keywords:frequency", { keyword = "x*", frequency = 5, relation = "at least" }, "abxd", { true, true } }, -- re.findall: 5 matches
  { "keywords:forbidden_words", { forbidden_words = { "house" } }, "A household name.", { true, true } },
  { "keywords:forbidden_words", { forbidden_words = { "house" } }, "My HOUSE.", { false, false } },
  { "keywords:letter_frequency", { letter = "A", let_frequency = 3, let_relation = "at least" }, "aAa", { true, true } },
  { "keywords:letter_frequency", { letter = "#", let_frequency = 2, let_relation = "less than" }, "# one #", { false, false } },
  { "keywords:letter_frequency", { letter = "k", let_frequency = 1, let_relation = "at least" }, "\u{212A}", { true, true } }, -- Kelvin sign lowers to k
  { "language:response_language", { language = "fr" }, "Bonjour, je suis très content de vous voir aujourd'hui.", { true, true } },
  { "language:response_language", { language = "fr" }, "Hello, I am very happy to see you today.", { false, false } },
  { "language:response_language", { language = "de" }, "12345 !!!", { true, true } }, -- no features: followed
  { "length_constraints:number_sentences", { num_sentences = 3, relation = "less than" }, "Mr. Smith came. He left.", { true, true } },
  { "length_constraints:number_sentences", { num_sentences = 3, relation = "at least" }, "One. Two! Three?", { true, true } },
  { "length_constraints:number_paragraphs", { num_paragraphs = 2 }, "First.\n***\nSecond.", { true, true } },
  { "length_constraints:number_paragraphs", { num_paragraphs = 2 }, "***\nFirst.\n***\nSecond.\n***", { true, true } },
  { "length_constraints:number_paragraphs", { num_paragraphs = 2 }, "First.\n***\n***\nSecond.", { false, false } },
  { "length_constraints:number_words", { num_words = 4, relation = "at least" }, "It's 3.14, ok", { true, true } },
  { "length_constraints:number_words", { num_words = 4, relation = "less than" }, "It's 3.14, ok", { false, false } },
  { "length_constraints:nth_paragraph_first_word", { num_paragraphs = 2, nth_paragraph = 2, first_word = "Then" },
    "Intro here.\n\n\"Then,\" she said.", { true, true } },
  { "length_constraints:nth_paragraph_first_word", { num_paragraphs = 2, nth_paragraph = 2, first_word = "then" },
    "Intro.\n\n\n\nthen more", { false, false } }, -- paragraph 2 is the empty piece
  { "detectable_content:number_placeholders", { num_placeholders = 2 }, "[name] at [address]", { true, true } },
  { "detectable_content:number_placeholders", { num_placeholders = 2 }, "[name\n] at [a[b]", { false, false } },
  { "detectable_content:postscript", { postscript_marker = "P.S." }, "Hi.\np. s. bye", { true, true } },
  { "detectable_content:postscript", { postscript_marker = "P.P.S" }, "Hi.\nP.S. bye", { false, false } },
  { "detectable_content:postscript", { postscript_marker = "PS:" }, "Hi.\nps: later", { true, true } },
  { "detectable_format:number_bullet_lists", { num_bullets = 2 }, "* one\n- two\n**bold**", { true, true } },
  { "detectable_format:number_bullet_lists", { num_bullets = 3 }, "Intro\n* one\n* two\n* three\nOutro", { true, true } },
  { "detectable_format:constrained_response", {}, "  My answer is maybe.  ", { true, true } },
  { "detectable_format:constrained_response", {}, "my answer is yes.", { false, false } },
  { "detectable_format:number_highlighted_sections", { num_highlights = 2 }, "*one* and **two** and * *", { true, true } },
  { "detectable_format:number_highlighted_sections", { num_highlights = 2 }, "*one\nline* **", { false, false } },
  { "detectable_format:multiple_sections", { section_spliter = "Section", num_sections = 2 }, "Section 1\nA\nSection 2\nB", { true, true } },
  { "detectable_format:multiple_sections", { section_spliter = "SECTION", num_sections = 2 }, "Section 1\nA\nSection 2\nB", { false, false } },
  { "detectable_format:json_format", {}, "```json\n{\"a\": [1, 2]}\n```", { true, true } },
  { "detectable_format:json_format", {}, "Here:\n{\"a\": 1}", { false, true } }, -- loose drops the first line
  { "detectable_format:title", {}, "<<My Title>>\nbody", { true, true } },
  { "detectable_format:title", {}, "<<  >> and <<\n>>", { false, false } },
  { "combination:two_responses", {}, "A\n******\nB", { true, true } },
  { "combination:two_responses", {}, "A\n******\nA", { false, false } },
  { "combination:repeat_prompt", { prompt_to_repeat = "Write a poem." }, "  write a POEM. Roses...", { true, true } },
  { "combination:repeat_prompt", { prompt_to_repeat = "Write a poem." }, "Sure! Write a poem.", { false, false } },
  { "startend:end_checker", { end_phrase = "Any other questions?" }, "Done. any other questions?\"", { true, true } },
  { "startend:end_checker", { end_phrase = "Any other questions?" }, "Any other questions? Yes.", { false, false } },
  { "change_case:capital_word_frequency", { capital_frequency = 3, capital_relation = "at least" }, "DON'T panic, OK?", { true, true } },
  { "change_case:capital_word_frequency", { capital_frequency = 1, capital_relation = "less than" }, "I am here.", { false, false } },
  { "change_case:english_capital", {}, "THIS IS AN ENGLISH SENTENCE WRITTEN IN CAPITALS.", { true, true } },
  { "change_case:english_capital", {}, "THIS IS an ENGLISH SENTENCE.", { false, false } },
  { "change_case:english_lowercase", {}, "this is an english sentence in lower case.", { true, true } },
  { "change_case:english_lowercase", {}, "ceci est une phrase française en minuscules.", { false, false } },
  { "punctuation:no_comma", {}, "No commas here.", { true, true } },
  { "punctuation:no_comma", {}, "Yes, one.", { false, false } },
  { "startend:quotation", {}, "  \"Quoted.\"  ", { true, true } },
  { "startend:quotation", {}, "\"", { false, false } },
  { "startend:quotation", {}, "Sure:\n\"Quoted.\"", { false, true } },
  { "startend:quotation", {}, "\"Quoted.\"\n**Note**", { false, true } },
  { "punctuation:no_comma", {}, "   \n\t ", { false, false } }, -- an empty response follows nothing
}

T.case("each check, strict and loose", function()
  for i, c in ipairs(CASES) do
    T.eq(check(c[1], c[2], c[3]), c[4], "case " .. i .. " (" .. c[1] .. ")")
  end
end)

T.case("official unit vectors (tests/data/ifeval/checker_unit_vectors.jsonl)", function()
  local rows = read_jsonl("tests/data/ifeval/checker_unit_vectors.jsonl")
  T.eq(#rows, 48, "cases")
  for i, c in ipairs(rows) do
    local s = ifeval.check(c.instruction_id, c.build_kwargs, c.response)
    T.eq(s, c.expected, "vector " .. i .. " (" .. c.instruction_id .. ")")
  end
end)

T.case("langdetect agrees with python3-langdetect (tests/data/ifeval/langdetect_cases.jsonl)", function()
  local rows = read_jsonl("tests/data/ifeval/langdetect_cases.jsonl")
  T.eq(#rows, 120, "cases")
  for i, c in ipairs(rows) do
    local lang, msg, code = ifeval.detect_language(c.text)
    if c.lang == json.null then
      T.eq({ lang, code }, { nil, "NO_FEATURES" }, "case " .. i)
    else
      T.eq(lang, c.lang, "case " .. i .. " " .. string.format("%q", c.text:sub(1, 40)) .. (msg and (": " .. msg) or ""))
    end
  end
end)

T.case("Punkt and word_tokenize agree with nltk 3.8 (tests/data/ifeval/nltk_cases.jsonl)", function()
  local rows = read_jsonl("tests/data/ifeval/nltk_cases.jsonl")
  T.eq(#rows, 70, "cases")
  for i, c in ipairs(rows) do
    T.eq(ifeval.sentences(c.text), c.sentences, "sentences " .. i)
    T.eq(ifeval.count_sentences(c.text), #c.sentences, "count " .. i)
    T.eq(ifeval.capital_words(c.text), c.capital_words, "capital words " .. i)
    T.eq(ifeval.word_tokens(c.text), c.tokens, "tokens " .. i)
  end
end)

T.case("building blocks", function()
  T.eq(ifeval.count_words("It's 3.14 — naïve_x, \u{0939}\u{093F}"), 6)
  T.eq(ifeval.sentences("Dr. Smith came. Yes. \"Quoted.\" Next"), { "Dr. Smith came.", "Yes.", "\"Quoted.\"", "Next" })
  T.eq(ifeval.word_tokens("\"I can't,\" he said."), { "``", "I", "ca", "n't", ",", "''", "he", "said", "." })
  T.eq(ifeval.capital_words("NASA's A.I. and the U.S."), 3)
  T.eq(ifeval.json_valid("[1, -0.5e+3, \"\\u00e9\", {\"a\": null}, NaN, -Infinity]"), true)
  for _, bad in ipairs({ "", "{", "[1,]", "{\"a\" 1}", "01", "1.", "'a'", "\"\t\"", "\"\\x\"", "[1] 2", "{1: 2}" }) do
    T.eq(ifeval.json_valid(bad), false, "json " .. bad)
  end
end)

-- capital_words skips the sentences where every uppercase letter sits next to a lowercase one in
-- the same \w run, except where a rewrite splits letters (contractions, n't): counts as NLTK's
T.case("capital words around contractions", function()
  local cases = {
    { "DOn't stop", 1 }, { "CANnot do", 1 }, { "'TIs true", 1 }, { "The Cat sat.", 0 },
    { "GIMme that", 1 }, { "wanNA go", 1 }, { "I am here.", 1 }, { "Don't. NASA's U.S. base", 2 },
    { "\u{212A}eep", 0 }, { "tI\u{17F} it", 0 },
  }
  for _, c in ipairs(cases) do T.eq(ifeval.capital_words(c[1]), c[2], c[1]) end
end)

T.case("kwargs the official checker would not accept", function()
  local function bad(id, kwargs, fragment)
    local s, msg, code = ifeval.check(id, kwargs, "text")
    T.eq(s, nil, id .. " result")
    T.eq(code, "BAD_ARGS", id .. " code")
    T.truthy(msg:find(fragment, 1, true), id .. " message: " .. tostring(msg))
  end
  bad("nonexistent:id", {}, "unknown instruction id")
  bad("keywords:frequency", { keyword = "a", frequency = 1 }, "needs 'relation'")
  bad("keywords:frequency", { keyword = "a", frequency = 1, relation = "at most" }, "'relation' must be")
  bad("keywords:frequency", { keyword = "", frequency = 1, relation = "at least" }, "non-empty")
  bad("keywords:letter_frequency", { letter = "ab", let_frequency = 1, let_relation = "at least" }, "one character")
  bad("language:response_language", { language = "xx" }, "30 language codes")
  bad("length_constraints:number_words", { num_words = -1, relation = "at least" }, ">= 0")
  bad("length_constraints:number_words", { num_words = "5", relation = "at least" }, "an integer")
  bad("length_constraints:nth_paragraph_first_word", { num_paragraphs = 2, nth_paragraph = 3, first_word = "a" }, "from 1 to")
  bad("keywords:existence", { keywords = {} }, "non-empty array")
  bad("punctuation:no_comma", { extra = 1 }, "takes no argument 'extra'")
  bad("keywords:existence", { keywords = { "(unclosed" } }, "bad regular expression")
  -- json.null counts as absent (Hugging Face's copy of the data lists every key)
  T.eq(check("punctuation:no_comma", { num_words = json.null }, "a b"), { true, true })
  T.raises(function() ifeval.check("punctuation:no_comma", "x", "a") end, "table expected")
end)

T.case("hostile input: invalid UTF-8, huge and pathological text, deep JSON", function()
  local bad = "caf\xC3 \xFF\xFE ok, \xE2\x82"
  for _, id in ipairs(ifeval.ids) do
    local kw = ({
      ["keywords:existence"] = { keywords = { "caf" } },
      ["keywords:frequency"] = { keyword = "ok", frequency = 1, relation = "at least" },
      ["keywords:forbidden_words"] = { forbidden_words = { "ok" } },
      ["keywords:letter_frequency"] = { letter = "o", let_frequency = 1, let_relation = "at least" },
      ["language:response_language"] = { language = "en" },
      ["length_constraints:number_sentences"] = { num_sentences = 1, relation = "at least" },
      ["length_constraints:number_paragraphs"] = { num_paragraphs = 1 },
      ["length_constraints:number_words"] = { num_words = 1, relation = "at least" },
      ["length_constraints:nth_paragraph_first_word"] = { num_paragraphs = 1, nth_paragraph = 1, first_word = "caf" },
      ["detectable_content:number_placeholders"] = { num_placeholders = 1 },
      ["detectable_content:postscript"] = { postscript_marker = "P.S." },
      ["detectable_format:number_bullet_lists"] = { num_bullets = 1 },
      ["detectable_format:number_highlighted_sections"] = { num_highlights = 1 },
      ["detectable_format:multiple_sections"] = { section_spliter = "Section", num_sections = 1 },
      ["combination:repeat_prompt"] = { prompt_to_repeat = "caf" },
      ["startend:end_checker"] = { end_phrase = "ok" },
      ["change_case:capital_word_frequency"] = { capital_frequency = 1, capital_relation = "at least" },
    })[id] or {}
    local s, l = ifeval.check(id, kw, bad)
    T.eq(type(s), "boolean", id .. " on invalid UTF-8: " .. tostring(l))
    T.eq(type(l), "boolean", id .. " loose")
  end
  T.eq(ifeval.count_sentences("a\xFF. B"), 2, "sentences of invalid UTF-8")
  T.eq({ ifeval.sentences("a\xFF. B") }, { nil, "the text is not valid UTF-8", "BAD_UTF8" })
  -- large inputs stay linear: 2 MB of mixed material per check
  local big = string.rep("Word. *x* [p] WORD, \"q\" (r.) ... U.S. 1. e.g. ", 50000)
  for _, id in ipairs({ "length_constraints:number_sentences", "change_case:capital_word_frequency",
                        "detectable_format:number_highlighted_sections", "language:response_language" }) do
    local kw = ({ ["length_constraints:number_sentences"] = { num_sentences = 5, relation = "at least" },
                  ["change_case:capital_word_frequency"] = { capital_frequency = 5, capital_relation = "at least" },
                  ["detectable_format:number_highlighted_sections"] = { num_highlights = 5 },
                  ["language:response_language"] = { language = "en" } })[id]
    local t0 = os.clock()
    T.eq(check(id, kw, big), { true, true }, id .. " on 2 MB")
    T.truthy(os.clock() - t0 < 20, id .. " took too long")
  end
  T.eq(ifeval.count_sentences(string.rep("!", 1000000)), 3) -- as nltk 3.8 counts them
  T.eq(ifeval.count_sentences(string.rep(". ", 500000)), 500000)
  -- deeply nested JSON is judged without recursion
  T.eq(ifeval.json_valid(string.rep("[", 1000000) .. string.rep("]", 1000000)), true)
  T.eq(ifeval.json_valid(string.rep("[{\"a\":", 200000)), false)
  -- a catastrophic keyword pattern hits PCRE2's limit instead of hanging
  local s, msg, code = ifeval.check("keywords:existence", { keywords = { "(a+)+$" } }, string.rep("a", 5000) .. "b")
  T.truthy(s == false or code == "FAILED", "catastrophic pattern: " .. tostring(msg))
end)

T.case("check_all agrees with check on every instruction of the 541 GPT-4 responses", function()
  local D = "tests/data/ifeval/"
  local f = io.open(D .. "input_data.jsonl", "rb")
  if not f then
    print("SKIPPED (this case): " .. D .. "input_data.jsonl is missing")
    return
  end
  f:close()
  local inputs = read_jsonl(D .. "input_data.jsonl")
  local responses = read_jsonl(D .. "responses_gpt4.jsonl")
  T.eq(#inputs, 541, "inputs")
  local compared = 0
  for i, d in ipairs(inputs) do
    local response = responses[i].response
    local r = ifeval.check_all(d.instruction_id_list, d.kwargs, response)
    local n, n_strict, all_loose = #d.instruction_id_list, 0, true
    local strict, loose, components = {}, {}, {}
    for k, id in ipairs(d.instruction_id_list) do
      local kw = {}
      for key, v in pairs(d.kwargs[k]) do if v ~= json.null then kw[key] = v end end
      local s, l = ifeval.check(id, kw, response)
      strict[k], loose[k] = s, l
      if s then n_strict = n_strict + 1 end
      all_loose = all_loose and l
      components[(k - 1) .. ":" .. id] = { score = s and 1 or 0, detail = { strict = s, loose = l } }
      compared = compared + 1
    end
    T.eq(r, {
      score = n_strict / n,
      reason = n_strict .. " of " .. n .. " instructions followed (strict)",
      components = components,
      detail = { follow_instruction_list_strict = strict, follow_instruction_list_loose = loose,
                 follow_all_strict = n_strict == n, follow_all_loose = all_loose },
    }, "record " .. i .. " (key " .. tostring(d.key) .. ")")
    T.eq(math.type(r.score), "float", "score is a float")
  end
  T.eq(compared, 834, "instructions compared")
end)

T.case("check_all: result shape, errors and hostile input", function()
  local r = ifeval.check_all({ "punctuation:no_comma", "punctuation:no_comma", "startend:quotation" },
    { {}, json.null }, "Sure:\n\"a, b\"") -- loose: "Sure:" has no comma
  T.eq(r, {
    score = 0.0, reason = "0 of 3 instructions followed (strict)",
    components = {
      ["0:punctuation:no_comma"] = { score = 0, detail = { strict = false, loose = true } },
      ["1:punctuation:no_comma"] = { score = 0, detail = { strict = false, loose = true } },
      ["2:startend:quotation"] = { score = 0, detail = { strict = false, loose = true } },
    },
    detail = { follow_instruction_list_strict = { false, false, false },
               follow_instruction_list_loose = { true, true, true },
               follow_all_strict = false, follow_all_loose = true },
  })
  T.eq(math.type(r.components["0:punctuation:no_comma"].score), "integer")
  local ok = ifeval.check_all({ "punctuation:no_comma" }, {}, "no commas here")
  T.eq(ok.score, 1.0)
  T.eq(ok.reason, "1 of 1 instructions followed (strict)")
  T.eq(ok.detail.follow_all_strict, true)
  T.eq(ok.detail.follow_all_loose, true)
  -- the first instruction that cannot be checked ends the call, with its index and id
  T.eq({ ifeval.check_all({ "punctuation:no_comma", "nonexistent:id" }, {}, "x") },
       { nil, "instruction 1 (nonexistent:id): unknown instruction id 'nonexistent:id'", "BAD_ARGS" })
  T.eq({ ifeval.check_all({ "punctuation:no_comma", "keywords:frequency" }, { {}, { keyword = "a" } }, "x") },
       { nil, "instruction 1 (keywords:frequency): keywords:frequency needs 'frequency' "
              .. "(the official checker would pick a random value)", "BAD_ARGS" })
  T.eq({ ifeval.check_all({ "punctuation:no_comma", 7 }, {}, "x") },
       { nil, "instruction 1: expected an id string and a kwargs object", "BAD_INPUT" })
  T.eq({ ifeval.check_all({ "punctuation:no_comma" }, { "kw" }, "x") },
       { nil, "instruction 0: expected an id string and a kwargs object", "BAD_INPUT" })
  T.eq({ ifeval.check_all({}, {}, "x") }, { nil, "the list names no instruction", "BAD_INPUT" })
  T.eq(select(3, ifeval.check_all({ "keywords:existence" }, { { keywords = { "(unclosed" } } }, "x")),
       "BAD_ARGS")
  T.raises(function() ifeval.check_all("x", {}, "a") end, "table expected")
  T.raises(function() ifeval.check_all({}, {}, {}) end, "string expected")
  -- invalid UTF-8 and a language check shared by two instructions
  local bad = "caf\xC3 \xFF\xFE ok, \xE2\x82"
  local rb = ifeval.check_all({ "language:response_language", "change_case:english_lowercase",
                                "keywords:existence" },
    { { language = "en" }, {}, { keywords = { "caf" } } }, bad)
  for k, id in ipairs({ "language:response_language", "change_case:english_lowercase", "keywords:existence" }) do
    local kw = ({ { language = "en" }, {}, { keywords = { "caf" } } })[k]
    local s, l = ifeval.check(id, kw, bad)
    T.eq(rb.components[(k - 1) .. ":" .. id].detail, { strict = s, loose = l }, id .. " on invalid UTF-8")
  end
  -- many instructions on one response
  local ids, kws = {}, {}
  for k = 1, 500 do ids[k], kws[k] = "punctuation:no_comma", {} end
  local many = ifeval.check_all(ids, kws, "a b")
  T.eq(many.score, 1.0)
  T.eq(#many.detail.follow_instruction_list_loose, 500)
  T.eq(many.components["499:punctuation:no_comma"].score, 1)
end)

T.case("evaluate: one evidence expands into several components and the row detail", function()
  local skill_mod = require "srm.skill"
  local evaluate = require "srm.evaluate"
  local files = require "srm.files"
  local function make(evidence, policy)
    files.begin_load({ dir = ".", path = "x.lua", files = {} })
    local ok, skill = pcall(skill_mod.declare, { name = "expand", evidence = evidence, policy = policy })
    files.end_load()
    assert(ok, skill)
    return skill
  end
  local skill = make({
    many = function() return { score = 0.5, components = { ["0:a"] = { score = 1 }, ["1:b"] = false },
                               detail = { flags = { true, false } } } end,
    other = function() return 1 end,
  }, require("srm.policy").mean { "many", "other" })
  local r = evaluate.evaluate(skill, {}, { settings = {}, skill = { name = "expand", dir = "." } })
  T.eq(r.status, "ok")
  T.near(r.score, 0.75)
  T.eq(r.components["0:a"], { score = 1, status = "ok" })
  T.eq(r.components["1:b"], { score = 0, status = "ok" })
  T.eq(r.components.many, nil, "the expanded evidence has no entry of its own")
  T.eq(r.components.other.score, 1)
  T.eq(r.detail, { flags = { true, false } })
  -- a component name that clashes with an evidence name makes that evidence a skill_error
  local clash = make({
    many = function() return { score = 1, components = { other = 1 } } end,
    other = function() return 1 end,
  }, require("srm.policy").mean { "other", "many" })
  local r2 = evaluate.evaluate(clash, {}, { settings = {}, skill = { name = "expand", dir = "." } })
  T.eq(r2.components.many.status, "skill_error")
  T.truthy(r2.components.many.reason:find("already taken", 1, true), r2.components.many.reason)
  T.eq(r2.detail, nil)
end)

T.done()
