#!/usr/bin/env bash
# IFEval throughput and memory: skills/ifeval.lua (all 25 checks, strict + loose, official
# semantics) over GPT-4's 541 responses repeated to N records (default 100000), through `srm run`.
# Usage: bench/run_ifeval.sh [N [WORKERS...]]   (default: 100000, workers 1 and 2)
# Prints a Markdown table. Needs ../shared/data/ifeval and the langdetect profiles
# (python3-langdetect).
#
# Baseline: the official checker (google-research instruction_following_eval, Python) needs nltk's
# trained punkt model, which cannot be installed here, so it is not run side by side. Its figures
# on this machine, as stated in issue 4: about 1 ms per response (strict + loose), 127 MB peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SRM_BUILD_DIR:-build-rel}
scripts/build.sh "$build" >/dev/null
SRM=./$build/srm
work=bench/out
mkdir -p "$work"
n=${1:-100000}
shift || true
workers=("$@")
[ ${#workers[@]} -eq 0 ] && workers=(1 2)

data="$work/ifeval-$n.jsonl"
[ -f "$data" ] || $SRM lua bench/gen_ifeval_records.lua "$n" "$data"

measure() { # prints "seconds peak_kib" of a command
  /usr/bin/time -f "%e %M" -o "$work/.time" "$@" >/dev/null 2>"$work/.stderr" || {
    cat "$work/.stderr" >&2; exit 1; }
  cat "$work/.time"
}

echo "| records | workers | srm rec/s | srm peak RSS | official checker (issue 4) | speed-up |"
echo "|---:|---:|---:|---:|---:|---:|"
for w in "${workers[@]}"; do
  out="$work/ifeval-srm-$n-w$w.jsonl"
  read -r sec kib < <(measure $SRM run skills/ifeval.lua "$data" -o "$out" --overwrite --no-progress \
    --workers "$w")
  [ "$(wc -l <"$out")" -eq "$n" ] || { echo "srm rows != $n" >&2; exit 1; }
  bad=$(grep -vc '"status":"ok"' "$out" || true)
  [ "$bad" -eq 0 ] || { echo "$bad rows are not ok" >&2; exit 1; }
  awk -v n="$n" -v w="$w" -v s="$sec" -v k="$kib" 'BEGIN {
    r = n / (s > 0 ? s : 0.01);
    printf "| %d | %d | %.0f | %.1f MiB | ~1,000 rec/s, 127 MB | %.0fx |\n", n, w, r, k/1024, r/1000 }'
done
# The checks alone (srm.ifeval.check strict + loose on every instruction, no run framework).
/usr/bin/time -f "%e %M" -o "$work/.time" $SRM lua bench/ifeval_core.lua "$n" >"$work/.core"
read -r _ c_kib <"$work/.time"
read -r _ _ _ c_rate <"$work/.core"
awk -v n="$n" -v r="$c_rate" -v k="$c_kib" 'BEGIN {
  printf "| %d | core | %.0f | %.1f MiB | ~1,000 rec/s, 127 MB | %.0fx |\n", n, r, k/1024, r/1000 }'
echo
echo "core: bench/ifeval_core.lua, srm.ifeval.check on every instruction in one Lua state, without"
echo "srm run (no JSON decoding, scheduler or rows); its rate excludes the one-off warm-up pass."
echo "The official checker is not run here (nltk's punkt model is not installable); its figures are"
echo "the ones stated in issue 4 for this machine: ~1 ms per response (strict + loose), 127 MB RSS."
