-- Allocation-failure sweep (issue 9, after Lua's testes/api.lua): every Lua-facing function of
-- srm.json, srm.re, srm.text, srm.math, srm.ifeval, srm.tok, srm.core, srm.code's pure part and
-- srm.luabox is called with the state's allocator refusing the 1st, 2nd, 3rd... growth request
-- until one call needs no refusal (srm.testhook.sweep, runtime/lsrm_testhook.c). Every refused
-- call must end cleanly: an error ("not enough memory" or an srm message), or a documented
-- error return (nil, message[, CODE]), or the right answer; never a crash, a wrong answer or
-- (under ASan/LSan) a leak. A function without a case here fails the coverage check.
local T = dofile("tests/lua/testlib.lua")
local H = require "srm.testhook"
local json = require "srm.json"
local re = require "srm.re"
local text = require "srm.text"
local smath = require "srm.math"
local ifeval = require "srm.ifeval"
local tok = require "srm.tok"
local core = require "srm.core"
local code = require "srm.code"
local luabox = require "srm.luabox"

local tmp = (os.getenv("SRM_TEST_TMP") or "/tmp/srm-tests") .. "/alloc-sweep-" .. os.time() .. "-" .. math.random(1e9)
assert(os.execute("mkdir -p '" .. tmp .. "'"))

-- A tiny tiktoken-style tokenizer file (the 256 byte tokens plus a few merges).
local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local chunk = {}
    for k = 3, 0, -1 do
      local v = (n >> (6 * k)) & 63
      chunk[#chunk + 1] = B64:sub(v + 1, v + 1)
    end
    if not b then chunk[3], chunk[4] = "=", "=" elseif not c then chunk[4] = "=" end
    out[#out + 1] = table.concat(chunk)
  end
  return table.concat(out)
end
local function tokenizer_file()
  local toks = {}
  for b = 0, 255 do toks[#toks + 1] = b64(string.char(b)) end
  local line1 = "! 0 " .. table.concat(toks, " ")
  local line2 = "! 256 " .. table.concat({ b64("he"), b64("ll"), b64("hell"), b64("hello") }, " ")
  local doc = json.encode({ pat_str = [['s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+]],
    special_tokens = { ["<|endoftext|>"] = 300 }, bpe_ranks = line1 .. "\n" .. line2 })
  local path = tmp .. "/tiny_tt.json"
  local f = assert(io.open(path, "wb"))
  f:write(doc)
  f:close()
  return path
end
local tok_path = tokenizer_file()

-- Comparable form of a call's results (userdata and functions by type only).
local function norm(v, depth)
  depth = depth or 0
  local t = type(v)
  if t == "table" then
    if depth > 6 then return "<deep>" end
    local c = {}
    for k, x in pairs(v) do c[norm(k, depth + 1)] = norm(x, depth + 1) end
    return c
  elseif t == "userdata" or t == "function" or t == "thread" then
    return "<" .. t .. ">"
  end
  return v
end
local function pack(...) return norm(table.pack(...)) end

-- Acceptable error objects: the memory error, or an srm error naming its API or a coded table.
local function clean_error(e)
  if type(e) == "table" then return e.code ~= nil or e.reason ~= nil end
  if type(e) ~= "string" then return false end
  if e:find("not enough memory", 1, true) or e:find("out of memory", 1, true) then return true end
  return e:match("^srm[%.%w_]*:") ~= nil or e:find("memory", 1, true) ~= nil
end

local stats = { calls = 0, steps = 0, raised = 0, returned_error = 0, returned_ok = 0 }
local messages = {}

-- Sweeps fn: the results of every refused call are compared with those of an unhooked call.
-- Returns the number of allocations fn needs (0 for calls that return numbers or booleans, or
-- strings already interned).
local function sweep(name, fn)
  -- Kept as text: holding the result strings would spare the swept calls their allocations.
  local want = T.show(pack(fn()))
  local steps = H.sweep(fn, function(n, refused, ok, ...)
    stats.steps = stats.steps + 1
    if not refused then
      if not ok then error(name .. ": failed without any refusal: " .. tostring((...)), 0) end
      local got = T.show(pack(...))
      if got ~= want then error(name .. ": unhooked result changed: " .. got .. " vs " .. want, 0) end
      return
    end
    if not ok then
      local e = ...
      if not clean_error(e) then
        error(name .. ": step " .. n .. " raised an unclean error: " .. T.show(e), 0)
      end
      stats.raised = stats.raised + 1
      local key = type(e) == "string" and e:gsub("%s+stack traceback.*", ""):sub(1, 80) or T.show(e)
      messages[key] = (messages[key] or 0) + 1
      return
    end
    local got = pack(...)
    if T.show(got) == want then
      stats.returned_ok = stats.returned_ok + 1
      return
    end
    local is_err = got[1] == nil and type(got[2]) == "string" -- nil, message[, CODE]
    for i = 1, got.n do -- a memory error the case itself caught with pcall
      if type(got[i]) == "string" and got[i]:find("not enough memory", 1, true) then is_err = true end
    end
    if not is_err then
      error(name .. ": step " .. n .. " returned a wrong answer under memory failure: "
        .. T.show(got) .. " (want " .. want .. ")", 0)
    end
    stats.returned_error = stats.returned_error + 1
  end)
  stats.calls = stats.calls + 1
  return steps
end

-- module name -> module table, {function name -> list of calls}
local COVER = {}
local function cover(modname, mod, cases, skip)
  COVER[#COVER + 1] = { name = modname, mod = mod, cases = cases, skip = skip or {} }
end

local UTF = "Ünïcödé Straße ΣΊΣΥΦΟΣ. Second sentence here! Third? 中文字符 123."
local rx = re.compile("(\\w+)\\s+(?<num>\\d+)", "i")

cover("srm.json", json, {
  decode = {
    function() return json.decode('{"a":[1,2,{"b":"xyz","c":[true,false,null]}],"d":"h\\u00e9llo","e":1.5e3}') end,
    function() return json.decode("[[[[[[1]]]]]]", 3) end,
    function()
      local parts = {}
      for i = 1, 60 do parts[i] = string.format('{"id":%d,"name":"item-%d","tags":["a","b%d"],"v":%d.5}', i, i, i, i) end
      return json.decode("[" .. table.concat(parts, ",") .. "]")
    end,
    function() return json.decode('{"a": ') end,
  },
  encode = {
    function() return json.encode({ a = { 1, 2, 3 }, b = "x\"y\n", c = { d = json.null, e = 2.5 } }) end,
    function() return json.encode({ z = 1, a = { 1, { 2 } } }, { indent = 2, order = { "z", "a" } }) end,
    function() return json.encode(json.empty_array) end,
  },
  array = { function() return json.is_array(json.array({})) end },
  is_array = { function() return json.is_array(json.array({ 1, 2 })), json.is_array({}) end },
})

cover("srm.re", re, {
  compile = {
    function() return tostring(re.compile("a(b+)c(?<x>\\d{2,})", "i") ~= nil) end,
    function() return pcall(re.compile, "(unclosed") end,
  },
  find = { function() return re.find("Hello World 42", "(\\w+)\\s+(\\d+)") end },
  match = { function() return re.match(UTF, "(\\p{Lu}\\w+)\\s+(\\w+)") end },
  test = { function() return re.test("abc123", "^[a-z]+\\d+$") end },
  exec = { function() return re.exec("key=value; other=thing", "(?<k>\\w+)=(?<v>\\w+)") end },
  gmatch = { function()
    local out = {}
    for a, b in re.gmatch("a=1, b=22, c=333", "(\\w)=(\\d+)") do out[#out + 1] = a .. b end
    return out
  end },
  gsub = {
    function() return re.gsub("hello world foo", "(\\w+)", "<$1>") end,
    function() return re.gsub("a1b22c333", "\\d+", function(d) return "[" .. #d .. "]" end) end,
    function() return re.gsub("x y z", "\\w", { x = "1", y = "2" }) end,
  },
  split = { function() return re.split("a, b,,c ;d", "\\s*[,;]\\s*") end },
  escape = { function() return re.escape("a.b*c(d)[e]{f}\\g^$|?+") end },
  set_limits = { function() return re.set_limits(re.set_limits({ depth = 100000 })) end },
  -- compiled-regex methods
  ["regex:find"] = { function() return rx:find("Item 42 and thing 7") end },
  ["regex:match"] = { function() return rx:match("Item 42 and thing 7") end },
  ["regex:test"] = { function() return rx:test("nothing") end },
  ["regex:exec"] = { function() return rx:exec("Item 42") end },
  ["regex:gmatch"] = { function()
    local out = {}
    for w, n in rx:gmatch("a 1 b 2 c 3") do out[#out + 1] = w .. n end
    return out
  end },
  ["regex:gsub"] = { function() return rx:gsub("a 1 b 2", "$2$1") end },
  ["regex:split"] = { function() return rx:split("x a 1 y b 2 z") end },
})

cover("srm.text", text, {
  valid_utf8 = { function() return text.valid_utf8(UTF), text.valid_utf8("a\255b") end },
  len = { function() return text.len(UTF) end },
  words = { function() return text.words(UTF) end },
  count_words = { function() return text.count_words(UTF) end },
  sentences = { function() return text.sentences(UTF) end },
  count_sentences = { function() return text.count_sentences(UTF) end },
  paragraphs = { function() return text.paragraphs("one\n\ntwo\n\n\nthree") end },
  lines = { function() return text.lines("a\nb\r\nc") end },
  upper = { function() return text.upper(UTF) end },
  lower = { function() return text.lower(UTF) end },
  casefold = { function() return text.casefold(UTF) end },
  is_upper = { function() return text.is_upper("ÄBC"), text.is_upper("aB") end },
  is_lower = { function() return text.is_lower("äbc") end },
  is_title = { function() return text.is_title("Hello World") end },
  normalize = { function() return text.normalize("e\204\129 A\204\138", "NFC"), text.normalize("ﬁ", "NFKD") end },
  letter_counts = { function() return text.letter_counts(UTF) end },
  count_letter = { function() return text.count_letter(UTF, "s") end },
  category = { function() return text.category("Ä"), text.category(0x4E2D) end },
  script_counts = { function() return text.script_counts(UTF) end },
  dominant_script = { function() return text.dominant_script(UTF) end },
  trim = { function() return text.trim("  \t x y \n ") end },
  split_whitespace = { function() return text.split_whitespace(" a  b\tc\nd ") end },
})

cover("srm.math", smath, {
  extract = {
    function() return smath.extract("The answer is $\\boxed{\\frac{3}{4}}$.") end,
    function() return smath.extract("so x = 2,74 and then 17", { targets = { "expr" } }) end,
  },
  equal = {
    function() return smath.equal("\\frac{1}{2}", "0.5") end,
    function() return smath.equal("\\{1, 2\\}", "\\{2, 1\\}") end,
    function() return smath.equal("x^2+2x+1", "(x+1)^2") end,
  },
  parse = { function() return smath.parse("\\sqrt{2}\\cdot 3 + \\pi") end },
})

local RESPONSE = "Hello World. This is a RESPONSE with some words, and a comma. " ..
  "It has *highlighted* text and a P.S. at the end.\n\nP.S. bye"
-- One case per IFEval instruction (the first of each in tests/lua/test_ifeval.lua).
local IFEVAL = {
  { "keywords:existence", { keywords = { "apple", "PEAR" } }, "An Apple and a pear.", { true, true } },
  { "keywords:frequency", { keyword = "the", frequency = 3, relation = "at least" }, "The then other the", { true, true } },
  { "keywords:forbidden_words", { forbidden_words = { "house" } }, "A household name.", { true, true } },
  { "keywords:letter_frequency", { letter = "A", let_frequency = 3, let_relation = "at least" }, "aAa", { true, true } },
  { "language:response_language", { language = "fr" }, "Bonjour, je suis très content de vous voir aujourd'hui.", { true, true } },
  { "length_constraints:number_sentences", { num_sentences = 3, relation = "less than" }, "Mr. Smith came. He left.", { true, true } },
  { "length_constraints:number_paragraphs", { num_paragraphs = 2 }, "First.\n***\nSecond.", { true, true } },
  { "length_constraints:number_words", { num_words = 4, relation = "at least" }, "It's 3.14, ok", { true, true } },
  { "length_constraints:nth_paragraph_first_word", { num_paragraphs = 2, nth_paragraph = 2, first_word = "Then" },
    "Intro here.\n\n\"Then,\" she said.", { true, true } },
  { "detectable_content:number_placeholders", { num_placeholders = 2 }, "[name] at [address]", { true, true } },
  { "detectable_content:postscript", { postscript_marker = "P.S." }, "Hi.\np. s. bye", { true, true } },
  { "detectable_format:number_bullet_lists", { num_bullets = 2 }, "* one\n- two\n**bold**", { true, true } },
  { "detectable_format:constrained_response", {}, "  My answer is maybe.  ", { true, true } },
  { "detectable_format:number_highlighted_sections", { num_highlights = 2 }, "*one* and **two** and * *", { true, true } },
  { "detectable_format:multiple_sections", { section_spliter = "Section", num_sections = 2 }, "Section 1\nA\nSection 2\nB", { true, true } },
  { "detectable_format:json_format", {}, "```json\n{\"a\": [1, 2]}\n```", { true, true } },
  { "detectable_format:title", {}, "<<My Title>>\nbody", { true, true } },
  { "combination:two_responses", {}, "A\n******\nB", { true, true } },
  { "combination:repeat_prompt", { prompt_to_repeat = "Write a poem." }, "  write a POEM. Roses...", { true, true } },
  { "startend:end_checker", { end_phrase = "Any other questions?" }, "Done. any other questions?\"", { true, true } },
  { "change_case:capital_word_frequency", { capital_frequency = 3, capital_relation = "at least" }, "DON'T panic, OK?", { true, true } },
  { "change_case:english_capital", {}, "THIS IS AN ENGLISH SENTENCE WRITTEN IN CAPITALS.", { true, true } },
  { "change_case:english_lowercase", {}, "this is an english sentence in lower case.", { true, true } },
  { "punctuation:no_comma", {}, "No commas here.", { true, true } },
  { "startend:quotation", {}, "  \"Quoted.\"  ", { true, true } },
}
local CHECK_CASES = {}
for _, c in ipairs(IFEVAL) do
  CHECK_CASES[#CHECK_CASES + 1] = function() return ifeval.check(c[1], c[2], c[3]) end
end
cover("srm.ifeval", ifeval, {
  check = CHECK_CASES,
  check_all = { function()
    return ifeval.check_all({ "punctuation:no_comma", "keywords:existence", "change_case:english_capital" },
      { {}, { keywords = { "apple" } }, json.null }, "An apple, AND A PEAR.")
  end },
  count_words = { function() return ifeval.count_words(RESPONSE) end },
  sentences = { function() return ifeval.sentences(RESPONSE) end },
  count_sentences = { function() return ifeval.count_sentences(RESPONSE) end },
  capital_words = { function() return ifeval.capital_words(RESPONSE) end },
  word_tokens = { function() return ifeval.word_tokens(RESPONSE) end },
  detect_language = { function() return ifeval.detect_language("Das ist ein kurzer deutscher Satz über das Wetter.") end },
  json_valid = { function() return ifeval.json_valid('{"a": [1, 2, {"b": null}]}'), ifeval.json_valid("{") end },
})

local tk = assert(tok.load(tok_path))
cover("srm.tok", tok, {
  load = { function()
    -- a fresh path each call defeats the module's cache, so the loader itself is swept
    local p = tmp .. "/tt-" .. math.random(1e12) .. ".json"
    os.execute("cp '" .. tok_path .. "' '" .. p .. "'")
    local t, msg, c = tok.load(p)
    os.remove(p)
    if t == nil then return nil, msg, c end
    return t.vocab_size, t:count("hello world")
  end },
  ["tok:encode"] = { function() return tk:encode("hello world, hello<|endoftext|>", { special = "allow" }) end },
  ["tok:decode"] = { function() return tk:decode({ 259, 32, 104, 101, 108, 108, 111 }) end },
  ["tok:count"] = { function() return tk:count("hello hell he") end },
})

local sha_input = string.rep("abc", 100)
cover("srm.core", core, {
  now = { function() return type(core.now()) end },
  sha256 = { function() return core.sha256(sha_input) end },
  read_file = {
    function() return core.read_file("tests/lua/testlib.lua", 64) end,
    function() return core.read_file(tmp .. "/does-not-exist") end,
  },
  stderr = { function() return core.stderr("") end },
  event = { function() return type(core.event()) end },
  signal = { function() local ev = core.event() core.signal(ev, "v") return true end },
  wait = { function() local ev = core.event() core.signal(ev, { 1, 2 }) return core.wait(ev) end },
}, { sleep = "yields to the event loop; a swept call must not yield" })

cover("srm.code (pure part)", code, {
  extract = {
    function() return code.extract("Here:\n```python\nprint(2)\n```\nand\n```js\nx\n```", "python") end,
    function() return code.extract("```\nuntagged\n```") end,
  },
}, { run = "starts processes (tests/cli/test_code_sandbox.lua)",
     run_many = "starts processes", tests = "starts processes" })

cover("srm.luabox", luabox, {
  run = {
    function() return luabox.run("local t = {} for i = 1, 50 do t[i] = ('x'):rep(i) end print(#t) return {n = #t, s = t[3]}") end,
    function() return luabox.run("error('boom')") end,
    function() return luabox.run("while true do end", { instructions = 10000 }) end,
  },
})

for _, m in ipairs(COVER) do
  T.case(m.name .. ": every function has a sweep case", function()
    local missing = {}
    for k, v in pairs(m.mod) do
      if type(v) == "function" and not m.cases[k] and not m.skip[k] then missing[#missing + 1] = k end
    end
    table.sort(missing)
    T.eq(missing, {}, "functions without a case")
  end)
  local names = {}
  for k in pairs(m.cases) do names[#names + 1] = k end
  table.sort(names)
  for _, fname in ipairs(names) do
    T.case(m.name .. "." .. fname .. " under allocation failure", function()
      for i, fn in ipairs(m.cases[fname]) do
        local steps = sweep(m.name .. "." .. fname .. "#" .. i, fn)
        m.steps = (m.steps or 0) + steps
      end
    end)
  end
end

T.case("each module's calls were really swept", function()
  for _, m in ipairs(COVER) do
    T.truthy((m.steps or 0) >= 5, m.name .. " refused allocations: " .. tostring(m.steps))
  end
  T.truthy(stats.raised >= 300, "calls that raised a memory error: " .. stats.raised)
end)

T.case("the hook is off after a sweep and the state still works", function()
  T.eq(H.fail_after(-1), 0, "no refusal pending")
  T.eq(json.encode({ 1, 2 }), "[1,2]")
  local t = {}
  for i = 1, 10000 do t[i] = tostring(i) end
  T.eq(#table.concat(t), 38894)
end)

T.case("the hook is not reachable from a skill environment", function()
  local sandbox = require "srm.sandbox"
  local env = sandbox.new_env("probe")
  local ok, err = pcall(env.require, "srm.testhook")
  T.eq(ok, false)
  T.truthy(type(err) == "table" and err.code == "SANDBOX", "sandbox violation: " .. T.show(err))
end)

io.stdout:write(string.format("sweep: %d calls, %d steps (%d raised, %d returned an error, "
  .. "%d returned the right answer)\n", stats.calls, stats.steps, stats.raised,
  stats.returned_error, stats.returned_ok))
for k, v in pairs(messages) do io.stdout:write(string.format("  %6d x %s\n", v, k)) end
os.execute("rm -rf '" .. tmp .. "'")
T.done()
