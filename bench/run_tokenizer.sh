#!/usr/bin/env bash
# Tokenizer throughput, single-threaded: srm.tok vs the tiktoken npm package (WASM build of the
# reference Rust implementation) on the same corpus (the >= 20 MB parity corpus of
# tests/tok/gen_corpus.js: ../shared/data text fields plus generated strings), in one run, for
# cl100k_base and o200k_base; peak RSS of each process with both vocabularies loaded.
# Usage: bench/run_tokenizer.sh      Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh build-rel >/dev/null
SRM=./build-rel/srm
cache=.cache/tokenizers
work=bench/out/tok
mkdir -p "$work"
scripts/fetch-tokenizers.sh
[ -f "$work/corpus.bin" ] || node tests/tok/gen_corpus.js ../shared/data "$work" 2>/dev/null
names=(cl100k_base o200k_base)
$SRM lua bench/tok_srm.lua "$work/corpus.bin" "${names[@]}" >"$work/srm.txt"
node bench/tok_tiktoken.js "$cache" "$work/corpus.bin" "${names[@]}" >"$work/tiktoken.txt"
bytes=$(stat -c %s "$work/corpus.bin")
echo "corpus: $(awk -v b="$bytes" 'BEGIN { printf "%.1f MiB", b / 1048576 }'), single thread"
echo
echo "| encoding | srm tokens/s | tiktoken (npm) tokens/s | srm / tiktoken | same token count |"
echo "|---|---:|---:|---:|---|"
for n in "${names[@]}"; do
  read -r _ st ss < <(awk -v n="$n" '$1 == n' "$work/srm.txt")
  read -r _ tt ts < <(awk -v n="$n" '$1 == n' "$work/tiktoken.txt")
  awk -v n="$n" -v st="$st" -v ss="$ss" -v tt="$tt" -v ts="$ts" 'BEGIN {
    a = st / ss; b = tt / ts;
    printf "| %s | %.3g M | %.3g M | %.2fx | %s |\n", n, a / 1e6, b / 1e6, a / b, st == tt ? "yes" : "NO" }'
done
echo
awk '/^rss_kib/ { printf "peak RSS with both vocabularies loaded: srm %.1f MiB", $2 / 1024 }' "$work/srm.txt"
awk '/^rss_kib/ { printf ", node + tiktoken %.1f MiB\n", $2 / 1024 }' "$work/tiktoken.txt"
