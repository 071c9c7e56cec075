#!/usr/bin/env bash
# The long fuzz run of issue 9: every target until 10 million executions or one hour, whichever
# comes first. Usage: bench/run_fuzz_long.sh [TARGET...]   (default: all eight, one after
# another; about 4-5 hours on one core). Each target's result line is scripts/fuzz.sh's
# PASS/FAIL line; exits non-zero if any target failed. Figures: docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=${*:-"jsonl json llm_reply judge math ifeval re tok"}
failed=0
for t in $targets; do
  SRM_FUZZ_ARGS="-runs=10000000 ${SRM_FUZZ_ARGS:-}" scripts/fuzz.sh "$t" 3600 || failed=1
done
exit $failed
