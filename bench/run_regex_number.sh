#!/usr/bin/env bash
# Throughput and memory of a regex + number skill (skills/gsm8k.lua) over 10k and 1M generated
# records, side by side with a plain-Python baseline of the same reward, in one run.
# Usage: bench/run_regex_number.sh [SIZES...]   (default: 10000 1000000)
# Prints a Markdown table; docs/benchmarks.md records its output.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh build-rel >/dev/null
SRM=./build-rel/srm
work=bench/out
mkdir -p "$work"
sizes=("${@:-10000 1000000}")
[ $# -eq 0 ] && sizes=(10000 1000000)

measure() { # prints "seconds peak_kib" of a command
  /usr/bin/time -f "%e %M" -o "$work/.time" "$@" >/dev/null 2>"$work/.stderr" || {
    cat "$work/.stderr" >&2; exit 1; }
  cat "$work/.time"
}

rss=()
echo "| records | srm rec/s | srm peak RSS | python rec/s | python peak RSS | srm / python speed |"
echo "|---:|---:|---:|---:|---:|---:|"
for n in "${sizes[@]}"; do
  data="$work/records-$n.jsonl"
  [ -f "$data" ] || $SRM lua bench/gen_records.lua "$n" "$data"
  read -r s_sec s_kib < <(measure $SRM run skills/gsm8k.lua "$data" -o "$work/srm-$n.jsonl" --overwrite --no-progress)
  read -r p_sec p_kib < <(measure python3 bench/baseline_regex_number.py "$data" "$work/py-$n.jsonl")
  # Both must have produced one row per record.
  [ "$(wc -l <"$work/srm-$n.jsonl")" -eq "$n" ] || { echo "srm rows != $n" >&2; exit 1; }
  [ "$(wc -l <"$work/py-$n.jsonl")" -eq "$n" ] || { echo "python rows != $n" >&2; exit 1; }
  rss+=("$s_kib")
  awk -v n="$n" -v ss="$s_sec" -v sk="$s_kib" -v ps="$p_sec" -v pk="$p_kib" 'BEGIN {
    sr = n / (ss > 0 ? ss : 0.01); pr = n / (ps > 0 ? ps : 0.01);
    printf "| %d | %.0f | %.1f MiB | %.0f | %.1f MiB | %.2fx |\n", n, sr, sk/1024, pr, pk/1024, sr/pr }'
done

# Acceptance: memory is bounded by in-flight records, not by file size.
if [ ${#rss[@]} -ge 2 ]; then
  awk -v a="${rss[0]}" -v b="${rss[${#rss[@]}-1]}" 'BEGIN {
    r = b / a; printf "\npeak RSS, largest vs smallest input: %.3fx (limit 1.10)\n", r; exit !(r <= 1.10) }'
fi
