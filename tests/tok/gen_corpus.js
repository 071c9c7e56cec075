// Builds the tokenizer parity corpus: every text field of ../shared/data (deduplicated) plus
// generated strings (random Unicode across scripts, emoji sequences, long runs of spaces and
// digits, special-token look-alikes, replacement characters where JavaScript would have lone
// surrogates), until the total reaches MIN_BYTES. Deterministic (seeded PRNG).
// Usage: node tests/tok/gen_corpus.js DATA_DIR OUT_DIR
// Writes OUT_DIR/corpus.bin and OUT_DIR/corpus_nfc.bin: records [u32 LE length][UTF-8 bytes],
// the second holding each string's NFC form (Hugging Face NFC normalizers round-trip to it).
"use strict";
const fs = require("fs");
const path = require("path");

const MIN_BYTES = 21 * 1024 * 1024;
const [dataDir, outDir] = process.argv.slice(2);
if (!dataDir || !outDir) {
  console.error("usage: gen_corpus.js DATA_DIR OUT_DIR");
  process.exit(2);
}

const seen = new Set();
const strings = [];
let total = 0;
function add(s) {
  if (typeof s !== "string" || s.length === 0 || seen.has(s)) return;
  seen.add(s);
  strings.push(s);
  total += Buffer.byteLength(s, "utf8");
}

function collect(v) {
  if (typeof v === "string") add(v);
  else if (Array.isArray(v)) v.forEach(collect);
  else if (v && typeof v === "object") Object.values(v).forEach(collect);
}

function walk(dir) {
  for (const name of fs.readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    const st = fs.statSync(p);
    if (st.isDirectory()) walk(p);
    else if (name.endsWith(".jsonl")) {
      for (const line of fs.readFileSync(p, "utf8").split("\n")) {
        if (line.trim() === "") continue;
        try { collect(JSON.parse(line)); } catch (e) { add(line); }
      }
    } else if (name.endsWith(".json")) {
      collect(JSON.parse(fs.readFileSync(p, "utf8")));
    } else if (name.endsWith(".md")) {
      add(fs.readFileSync(p, "utf8"));
    }
  }
}
walk(dataDir);
const fromData = strings.length, dataBytes = total;

// mulberry32
let seed = 0x5eed1234;
function rnd() {
  seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rnd() * a.length)];
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));

// Long-assigned ranges (Unicode <= 13), so every engine's tables agree on them.
const RANGES = [
  [0x20, 0x7e], [0xa0, 0xff], [0x100, 0x17f], [0x180, 0x24f], [0x370, 0x3ff], [0x400, 0x4ff],
  [0x531, 0x556], [0x561, 0x587], [0x5d0, 0x5ea], [0x620, 0x64a], [0x660, 0x669],
  [0x905, 0x939], [0x966, 0x96f], [0x985, 0x98c], [0xe01, 0xe3a], [0xe50, 0xe59],
  [0x10d0, 0x10fa], [0x3041, 0x3096], [0x30a1, 0x30fa], [0x4e00, 0x9fa5], [0xac00, 0xd7a3],
  [0x300, 0x36f], [0x2000, 0x200a], [0x2010, 0x2027], [0x2030, 0x205e], [0x2190, 0x21ff],
  [0x2200, 0x22ff], [0xff10, 0xff19], [0xff21, 0xff5a], [0x1f300, 0x1f64f], [0x1f900, 0x1f9ff],
  [0x1d400, 0x1d44f],
];
const SPACES = [" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2003", "\u2028",
                "\u0085", "\u000b", "\u000c"];
const EMOJI = ["👨‍👩‍👧‍👦", "👍🏽", "🇫🇷", "🇯🇵", "1️⃣", "❤️", "🏳️‍🌈", "🧑🏿‍💻", "👩‍❤️‍💋‍👨",
               "☺︎", "🤷‍♀️", "😀", "🙂🙃", "🐱‍👤"];
const SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>",
                 "<|begin_of_text|>", "<|eot_id|>", "<|endof", "<|fim_prefix|>", "<|endofprompt|>",
                 "<|start_header_id|>", "<tool_call>"];
const WORDS = ["the", "The", "HELLO", "don't", "I'M", "we'LL", "it's", "'s", "ſ", "ǅ", "straße",
               "naïve", "e\u0301", "A\u030a", "ﬁ", "Ω", "٣٤٥", "１２３", "3.14159", "x²", "--",
               "//", "/*", "*/", "{}", "=>", "...", "\ufffd", "\ufeff", "\u200b", "\u200d", "\0"];

function randUnicode() {
  const out = [];
  const n = int(1, 400);
  for (let i = 0; i < n; i++) {
    const r = rnd();
    if (r < 0.12) out.push(pick(SPACES));
    else if (r < 0.2) out.push(pick(WORDS));
    else if (r < 0.23) out.push(pick(EMOJI));
    else {
      const [lo, hi] = pick(RANGES);
      const k = int(1, 12);
      for (let j = 0; j < k; j++) out.push(String.fromCodePoint(int(lo, hi)));
    }
  }
  return out.join("");
}

function runs() {
  const kind = int(0, 5);
  const n = rnd() < 0.1 ? int(1000, 20000) : int(1, 300);
  switch (kind) {
    case 0: return " ".repeat(n) + pick(["", "x", "\n", "1", "é"]);
    case 1: return Array.from({ length: n }, () => String(int(0, 9))).join("");
    case 2: return Array.from({ length: n }, () => pick([" ", "\n", "\t", "\r"])).join("");
    case 3: return pick(["a", "Ab", "中", "٣"]).repeat(n);
    case 4: return Array.from({ length: int(1, 50) }, () => pick(EMOJI)).join(pick(["", " ", "\u200d"]));
    default: return pick(SPECIAL) + randUnicode().slice(0, 40) + pick(SPECIAL) + " " + pick(SPECIAL);
  }
}

// JavaScript strings with lone surrogates become U+FFFD once encoded to UTF-8: write them so.
function surrogates() {
  return "a\ud800b " + String.fromCharCode(0xdc00 + int(0, 1000)) + randUnicode().slice(0, 30);
}

while (total < MIN_BYTES) {
  const r = rnd();
  add(r < 0.6 ? randUnicode() : r < 0.95 ? runs() : surrogates());
}
fs.mkdirSync(outDir, { recursive: true });
function write(file, map) {
  const parts = [];
  for (const s of strings) {
    const b = Buffer.from(map(s), "utf8");
    const h = Buffer.alloc(4);
    h.writeUInt32LE(b.length);
    parts.push(h, b);
  }
  fs.writeFileSync(path.join(outDir, file), Buffer.concat(parts));
}
write("corpus.bin", (s) => s);
write("corpus_nfc.bin", (s) => Buffer.from(s, "utf8").toString("utf8").normalize("NFC"));
console.error(`gen_corpus: ${strings.length} strings, ${(total / 1048576).toFixed(1)} MiB ` +
  `(${fromData} from the data, ${(dataBytes / 1048576).toFixed(1)} MiB)`);
