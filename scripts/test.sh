#!/usr/bin/env bash
# Builds srm and runs the whole test suite (Check C tests, Lua API tests, CLI golden tests).
# SRM_SANITIZE=1 runs it on an ASan+UBSan build instead (build directory build-asan).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
dir=build
if [ "${SRM_SANITIZE:-0}" = 1 ]; then
  dir=build-asan
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi
scripts/build.sh "$dir"
cd "$dir"
ctest --output-on-failure -j"$(nproc)"
