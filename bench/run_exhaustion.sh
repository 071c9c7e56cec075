#!/usr/bin/env bash
# Exhaustion at full size (issue 9): bench/run_exhaustion.sh [RECORDS]   (default 100000).
# Runs tests/cli/test_escape_suite.lua with RECORDS records of 1 MiB streamed through a pipe
# (the ctest streams 300), and prints each exhaustion case's peak RSS and time.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh build-rel >/dev/null
export SRM_BIN=$PWD/build-rel/srm SRM_TEST_TMP=${SRM_TEST_TMP:-/tmp/srm-soak}
export SRM_EXHAUST_MB_RECORDS=${1:-100000}
./build-rel/srm lua tests/cli/test_escape_suite.lua ./build-rel/srm | grep -E '^(exhaustion|FAIL|[0-9]+/[0-9]+ passed)'
