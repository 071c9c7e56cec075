#!/usr/bin/env bash
# srm report at scale: N synthetic rows (bench/gen_report_rows.lua; 3 components, 2 skill
# generations, ~8% failures), timed without and with --data (the join for score vs length), and
# srm diff of the rows against themselves. Memory must stay flat in N (sampled scatter plots,
# fixed bins). Usage: bench/run_report.sh [N]   (default 1000000). Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-rel}
scripts/build.sh "$BUILD" >/dev/null
SRM=./$BUILD/srm
N=${1:-1000000}
work=bench/out
mkdir -p "$work"
rows="$work/report-rows-$N.jsonl"
data="$work/report-data-$N.jsonl"
[ -f "$rows" ] && [ -f "$data" ] || $SRM lua bench/gen_report_rows.lua "$N" "$rows" "$data"
echo "rows file: $(du -h "$rows" | cut -f1), data file: $(du -h "$data" | cut -f1), N = $N"
echo
echo "| command | wall s | rows/s | peak RSS | page |"
echo "|---|---:|---:|---:|---:|"
run() {
  local label=$1 out=$2; shift 2
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/report.err"
  read -r sec kib <"$work/time"
  local size="-"
  [ -n "$out" ] && size="$(( $(stat -c %s "$out") / 1024 )) KiB"
  awk -v l="$label" -v n="$N" -v s="$sec" -v k="$kib" -v p="$size" \
    'BEGIN { printf "| %s | %.2f | %.0f | %.1f MiB | %s |\n", l, s, n / (s > 0 ? s : 0.01), k / 1024, p }'
}
run "srm report" "$work/report-$N.html" $SRM report "$rows" -o "$work/report-$N.html"
run "srm report --data" "$work/report-data-$N.html" \
  $SRM report "$rows" -o "$work/report-data-$N.html" --data "$data"
run "srm diff (same file)" "" $SRM diff "$rows" "$rows"
