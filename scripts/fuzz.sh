#!/bin/sh
# srm fuzzing: scripts/fuzz.sh TARGET SECONDS | scripts/fuzz.sh all SECONDS
#
# Builds build-fuzz (clang, -DSRM_FUZZ=ON: libFuzzer + ASan + UBSan) when needed, seeds a working
# corpus build-fuzz/corpus/TARGET from tests/fuzz/corpus/TARGET, and runs the target for SECONDS
# with a 10 s per-input timeout and a 2 GB RSS limit. Prints the executions and one PASS/FAIL line
# per target; exits non-zero on any crash, sanitizer report, leak, timeout or out-of-memory.
# Crash inputs land in build-fuzz/artifacts/TARGET/; copy them to tests/fuzz/regressions/TARGET/
# once fixed, so the fuzz.replay_TARGET ctest replays them in every build.
# Environment: SRM_FUZZ_BUILD (build directory, default build-fuzz), SRM_FUZZ_JOBS (-j, default 2),
# SRM_FUZZ_ARGS (extra libFuzzer flags).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${SRM_FUZZ_BUILD:-$root/build-fuzz}
jobs=${SRM_FUZZ_JOBS:-2}
targets="jsonl json llm_reply judge math ifeval re tok"

usage() {
  echo "usage: scripts/fuzz.sh TARGET|all SECONDS   (targets: $targets)" >&2
  exit 2
}

[ $# -eq 2 ] || usage
case $2 in '' | *[!0-9]*) usage ;; esac
seconds=$2
if [ "$1" = all ]; then
  run=$targets
else
  case " $targets " in *" $1 "*) run=$1 ;; *) usage ;; esac
fi

# Longest input per target: enough for the structure each one parses, small enough to stay fast.
max_len() {
  case $1 in
  jsonl) echo 8192 ;;
  json | llm_reply) echo 8192 ;;
  judge | ifeval) echo 4096 ;;
  math | tok) echo 2048 ;;
  re) echo 1024 ;;
  esac
}

if [ ! -f "$build/CMakeCache.txt" ]; then
  command -v clang >/dev/null || { echo "fuzz.sh: clang is not installed" >&2; exit 2; }
  CC=clang cmake -S "$root" -B "$build" -DSRM_FUZZ=ON -DSRM_WERROR=OFF \
    -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g -O1" >/dev/null
fi
tlist=
for t in $run; do tlist="$tlist fuzz_$t"; done
# shellcheck disable=SC2086
cmake --build "$build" -j"$jobs" --target $tlist >"$build/fuzz-build.log" 2>&1 || {
  tail -40 "$build/fuzz-build.log" >&2
  echo "fuzz.sh: build failed (log: $build/fuzz-build.log)" >&2
  exit 2
}

failed=0
summary=
for t in $run; do
  work=$build/corpus/$t
  art=$build/artifacts/$t
  log=$build/logs/$t.log
  mkdir -p "$work" "$art" "$build/logs"
  seeds=$root/tests/fuzz/corpus/$t
  [ -d "$seeds" ] && cp -n "$seeds"/* "$work"/ 2>/dev/null || true
  echo "== fuzz $t: ${seconds}s, max_len $(max_len "$t"), corpus $work"
  rc=0
  # shellcheck disable=SC2086
  (cd "$build" && ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
    "$build/tests/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len="$(max_len "$t")" -print_final_stats=1 -artifact_prefix="$art/" \
    ${SRM_FUZZ_ARGS:-} "$work") >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  units=$(ls "$work" | wc -l)
  if [ "$rc" -eq 0 ] && ! grep -q -E '^(==[0-9]+==ERROR|SUMMARY: |.*runtime error:)' "$log"; then
    line="PASS fuzz $t: ${execs:-?} executions (${rate:-?}/s), coverage ${cov:-?}, corpus $units"
  else
    failed=1
    grep -E 'ERROR|runtime error|SUMMARY|Test unit written|fuzz[_a-z]*:' "$log" | head -8
    line="FAIL fuzz $t: exit $rc after ${execs:-?} executions; log $log, inputs in $art/"
  fi
  echo "$line"
  summary="$summary$line
"
done
if [ "$(echo "$run" | wc -w)" -gt 1 ]; then
  printf '\n%s' "$summary"
fi
if [ "$failed" -ne 0 ]; then
  echo "fuzz.sh: FAILED" >&2
  exit 1
fi
echo "fuzz.sh: all passed"
