#!/usr/bin/env bash
# Fault soak (issue 9): bench/run_fault_soak.sh [MINUTES] [RATE]   (defaults: 30 minutes, 200
# records/s). srm run --watch reads records from a FIFO while two srm-mock endpoints inject 5xx,
# 429, resets, stalls, malformed and truncated bodies, endpoint A goes down for 10 s in every
# 30 s, and the skill is edited every 10 s (hot reload). Prints a Markdown table: zero lost or
# duplicated rows, HTTP attempts per record (bounded retries) and srm's RSS every 5 s.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh build-rel >/dev/null
export SRM_MOCK_BIN=$PWD/build-rel/tests/srm-mock SRM_TEST_TMP=${SRM_TEST_TMP:-/tmp/srm-soak}
./build-rel/srm lua bench/fault_soak.lua ./build-rel/srm "${1:-30}" "${2:-200}"
