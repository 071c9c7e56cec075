-- Tokenizer throughput of srm.tok, single-threaded: encodes every string of the parity corpus
-- (tests/tok/gen_corpus.js) with each named tokenizer (all loaded first), and prints one line
-- "name tokens seconds" per tokenizer, then "rss_kib N" (VmHWM with every vocabulary loaded).
-- Usage: srm lua bench/tok_srm.lua CORPUS.bin NAME...
local tok = require "srm.tok"
local path = arg[1]
local f = assert(io.open(path, "rb"))
local data = f:read("a")
f:close()
local corpus, pos = {}, 1
while pos <= #data do
  local n
  n, pos = string.unpack("<I4", data, pos)
  corpus[#corpus + 1] = data:sub(pos, pos + n - 1)
  pos = pos + n
end
data = nil
local toks = {}
for i = 2, #arg do toks[#toks + 1] = {arg[i], assert(tok.load(arg[i]))} end
for _, nt in ipairs(toks) do
  local t, tokens = nt[2], 0
  local opts = {special = "allow"}
  for _, s in ipairs(corpus) do tokens = tokens + #t:encode(s, opts) end -- warm-up pass
  tokens = 0
  local t0 = os.clock()
  for _, s in ipairs(corpus) do tokens = tokens + #t:encode(s, opts) end
  print(nt[1], tokens, os.clock() - t0)
end
for line in io.lines("/proc/self/status") do
  local kib = line:match("^VmHWM:%s*(%d+)")
  if kib then print("rss_kib", kib) end
end
