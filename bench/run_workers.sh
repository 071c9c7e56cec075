#!/usr/bin/env bash
# --workers scaling: a CPU-bound regex-heavy skill (bench/regex_heavy.lua) over N generated
# records with --workers 1 and --workers 2 in one run; rows must be identical apart from latency.
# Usage: bench/run_workers.sh [N]   (default 200000). Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh build-rel >/dev/null
SRM=./build-rel/srm
N=${1:-200000}
work=bench/out
mkdir -p "$work"
data="$work/records-$N.jsonl"
[ -f "$data" ] || $SRM lua bench/gen_records.lua "$N" "$data"
echo "| workers | wall s | records/s | speed-up | peak RSS |"
echo "|---:|---:|---:|---:|---:|"
base=""
for w in 1 2; do
  /usr/bin/time -f "%e %M" -o "$work/time" $SRM run bench/regex_heavy.lua "$data" \
    -o "$work/workers-$w.jsonl" --overwrite --no-progress --workers "$w" 2>/dev/null
  read -r sec kib <"$work/time"
  [ -z "$base" ] && base=$sec
  awk -v w="$w" -v n="$N" -v s="$sec" -v b="$base" -v k="$kib" \
    'BEGIN { printf "| %d | %.2f | %.0f | %.2fx | %.1f MiB |\n", w, s, n / s, b / s, k / 1024 }'
done
strip() { sed 's/"latency_ms":[0-9.]*//' "$1" | md5sum | cut -d' ' -f1; }
if [ "$(strip "$work/workers-1.jsonl")" = "$(strip "$work/workers-2.jsonl")" ]; then
  echo; echo "rows identical for 1 and 2 workers (latency_ms aside)"
else
  echo "rows differ between 1 and 2 workers" >&2; exit 1
fi
