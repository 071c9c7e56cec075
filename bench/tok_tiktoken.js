// Baseline for bench/run_tokenizer.sh: the tiktoken npm package (WASM build of OpenAI's Rust
// tiktoken), single-threaded, on the same corpus; both vocabularies loaded first. Prints
// "name tokens seconds" per encoding, then "rss_kib N" (peak RSS).
// Usage: node bench/tok_tiktoken.js CACHE_DIR CORPUS.bin NAME...
"use strict";
const fs = require("fs");
const path = require("path");
const [cache, file, ...names] = process.argv.slice(2);
const { get_encoding } = require(path.resolve(cache, "node_modules/tiktoken"));
const buf = fs.readFileSync(file);
const corpus = [];
for (let p = 0; p < buf.length;) {
  const n = buf.readUInt32LE(p);
  corpus.push(buf.toString("utf8", p + 4, p + 4 + n));
  p += 4 + n;
}
const encs = names.map((n) => [n, get_encoding(n)]);
for (const [name, enc] of encs) {
  for (const s of corpus) enc.encode(s, "all"); // warm-up pass
  let tokens = 0;
  const t0 = process.hrtime.bigint();
  for (const s of corpus) tokens += enc.encode(s, "all").length;
  console.log(name, tokens, Number(process.hrtime.bigint() - t0) / 1e9);
}
console.log("rss_kib", process.resourceUsage().maxRSS);
