#!/usr/bin/env bash
# Best-of-N selection on GSM8K (issue 8): the 1,319 test problems x 4 labelled model solutions
# (../shared/data/gsm8k/example_model_solutions.jsonl) through `srm run --bench bestofn --mode
# group`, then `srm eval bestofn`. Strategies side by side in one run:
#   majority        reference-free majority vote over final answers (srm.math.extract / equal)
#   random          a seeded uniform pick (seeds 1, 2, 3)
#   argmax+verifier argmax of the GSM8K reference skill (skills/gsm8k.lua; reads the gold answer)
# and, from the labels alone, pass@1 of the first solution and the oracle (any correct).
# Usage: bench/run_bestofn.sh     Prints a Markdown table (accuracy %, wall time, peak RSS).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SRM_BUILD_DIR:-build-rel}
scripts/build.sh "$build" >/dev/null
SRM=./$build/srm
data=../shared/data/gsm8k/example_model_solutions.jsonl
[ -f "$data" ] || { echo "run_bestofn.sh: $data is missing" >&2; exit 1; }
work=bench/out/bestofn
mkdir -p "$work"

echo "| selection | accuracy % | wall s | peak RSS MiB | command |"
echo "|---|---:|---:|---:|---|"
run() { # label strategy seed
  local out="$work/$2-$3.jsonl"
  local cmd=("$SRM" run skills/gsm8k.lua "$data" --bench bestofn --mode group --strategy "$2"
    --seed "$3" -o "$out" --overwrite --no-progress)
  /usr/bin/time -f "%e %M" -o "$work/.time" "${cmd[@]}" 2>"$work/.stderr" || {
    cat "$work/.stderr" >&2; exit 1; }
  "$SRM" eval bestofn "$out" -o "$work/$2-$3.metrics.json" >/dev/null
  local acc
  acc=$(sed -n 's/.*"selected": *\([0-9.]*\).*/\1/p' "$work/$2-$3.metrics.json")
  read -r secs kib <"$work/.time"
  awk -v l="$1" -v a="$acc" -v s="$secs" -v k="$kib" -v c="--strategy $2 --seed $3" \
    'BEGIN { printf "| %s | %.2f | %.2f | %.1f | `%s` |\n", l, a, s, k / 1024, c }'
  last_metrics="$work/$2-$3.metrics.json"
}
run "majority vote (reference-free)" majority 0
run "seeded random pick, seed 1" random 1
run "seeded random pick, seed 2" random 2
run "seeded random pick, seed 3" random 3
run "argmax of the reference verifier" argmax 0
sed -n 's/.*"first": *\([0-9.]*\).*/| first solution (pass@1) | \1 | | | labels |/p; s/.*"oracle": *\([0-9.]*\).*/| oracle (any of 4 correct) | \1 | | | labels |/p; s/.*"random": *\([0-9.]*\).*/| random pick, expected | \1 | | | labels |/p' "$last_metrics" |
  awk -F'|' '{ printf "|%s| %.2f |%s|%s|%s|\n", $2, $3, $4, $5, $6 }'
