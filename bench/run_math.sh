#!/usr/bin/env bash
# Math answer equivalence throughput and memory: N pairs (default 100000) built from the MATH-500
# answers and perturbations of them (bench/gen_math_pairs.lua), scored by
#   - skills/math.lua through `srm run` (extraction + equivalence + evidence rows),
#   - the math core alone (bench/math_core.lua: srm.math.extract + srm.math.equal in a loop),
#   - a plain-Python SymPy checker (bench/baseline_math.py) on the first BASELINE pairs
#     (default 2000; it is too slow for all of them). Math-Verify itself cannot be installed here
#     (no network), so it is not run.
# Usage: bench/run_math.sh [N [BASELINE]]      Prints a Markdown table. Needs ../shared/data/math.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SRM_BUILD_DIR:-build-rel}
scripts/build.sh "$build" >/dev/null
SRM=./$build/srm
work=bench/out
mkdir -p "$work"
n=${1:-100000}
base_n=${2:-2000}

data="$work/math-$n.jsonl"
[ -f "$data" ] || $SRM lua bench/gen_math_pairs.lua "$n" "$data"

measure() { # prints "seconds peak_kib" of a command
  /usr/bin/time -f "%e %M" -o "$work/.time" "$@" >/dev/null 2>"$work/.stderr" || {
    cat "$work/.stderr" >&2; exit 1; }
  cat "$work/.time"
}

row() { # name pairs seconds kib
  awk -v name="$1" -v n="$2" -v s="$3" -v k="$4" 'BEGIN {
    printf "| %s | %d | %.2f s | %.0f | %.1f MiB |\n", name, n, s, n / (s > 0 ? s : 0.01), k / 1024 }'
}

echo "| scorer | pairs | time | pairs/s | peak RSS |"
echo "|---|---:|---:|---:|---:|"
read -r s_sec s_kib < <(measure $SRM run skills/math.lua "$data" -o "$work/math-srm-$n.jsonl" --overwrite --no-progress)
[ "$(wc -l <"$work/math-srm-$n.jsonl")" -eq "$n" ] || { echo "srm rows != $n" >&2; exit 1; }
row "srm run skills/math.lua" "$n" "$s_sec" "$s_kib"
read -r c_sec c_kib < <(measure $SRM lua bench/math_core.lua "$data")
row "srm.math core (extract + equal)" "$n" "$c_sec" "$c_kib"
read -r p_sec p_kib < <(measure python3 bench/baseline_math.py "$data" "$work/math-py.jsonl" "$base_n")
row "Python + SymPy baseline" "$base_n" "$p_sec" "$p_kib"
# Agreement of the two on the baseline's pairs (informative: the baseline is cruder).
python3 - "$work/math-srm-$n.jsonl" "$work/math-py.jsonl" <<'PY'
import json, sys
srm = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    srm[r["id"]] = r.get("score")
n = same = ones_s = ones_p = 0
for line in open(sys.argv[2]):
    r = json.loads(line)
    n += 1
    same += (srm[r["id"]] == 1) == (r["score"] == 1)
    ones_s += srm[r["id"]] == 1
    ones_p += r["score"] == 1
print(f"\non the baseline's {n} pairs: srm scores {ones_s} correct, the baseline {ones_p}; "
      f"they agree on {same}")
PY
