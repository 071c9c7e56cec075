#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a scored file: installs the packages, builds
# srm, and scores the bundled GSM8K example (no model server needed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
mkdir -p out
./build/srm run skills/gsm8k.lua examples/quickstart/gsm8k_sample.jsonl \
  -o out/quickstart.jsonl --overwrite
echo
echo "first rows of out/quickstart.jsonl:"
head -n 3 out/quickstart.jsonl
