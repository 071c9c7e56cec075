#!/usr/bin/env bash
# Crash-and-resume soak (issue 9): bench/run_crash_soak.sh [N] [KILLS]   (defaults 20000, 20).
# An LLM-judge run of N records against srm-mock is SIGKILLed at KILLS random moments and
# resumed with --resume each time; the final file must have one row per id, no torn or
# duplicated line, and the rows of an uninterrupted run (tests/cli/test_crash_resume.lua).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh build-rel >/dev/null
export SRM_BIN=$PWD/build-rel/srm SRM_MOCK_BIN=$PWD/build-rel/tests/srm-mock
export SRM_TEST_TMP=${SRM_TEST_TMP:-/tmp/srm-soak} SRM_CRASH_N=${1:-20000} SRM_CRASH_KILLS=${2:-20}
./build-rel/srm lua tests/cli/test_crash_resume.lua ./build-rel/srm
