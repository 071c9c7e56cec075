#!/usr/bin/env bash
# bench/llm_fanout: srm driving an LLM judge vs the usual Python runner (ThreadPoolExecutor(80)
# + a blocking HTTP client, one request per record), both against srm-mock, in one run.
#   1. latency bound: 10,000 records x 1 call, 500 ms mock latency, srm -j 1000 (bound 5 s)
#   2. CPU per request: 0 ms latency, ~8 KB requests, ~1 KB replies (user+sys / requests)
#   3. throughput at the baseline's concurrency: 80 in flight, 20 ms latency (bound 4,000/s)
# Usage: bench/llm_fanout/run.sh [RECORDS]   (default 10000). Prints Markdown tables.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/build.sh build-rel >/dev/null
SRM=./build-rel/srm
MOCK=./build-rel/tests/srm-mock
[ -x "$MOCK" ] || { echo "srm-mock was not built (libmicrohttpd-dev missing)" >&2; exit 1; }
N=${1:-10000}
work=bench/out/llm_fanout
mkdir -p "$work"

mock_pid=""
start_mock() { # args: mock flags
  rm -f "$work/port"
  "$MOCK" --port 0 --port-file "$work/port" "$@" 2>"$work/mock.err" &
  mock_pid=$!
  for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
  URL="http://127.0.0.1:$(cat "$work/port")/v1"
}
stop_mock() { kill "$mock_pid" 2>/dev/null || true; wait "$mock_pid" 2>/dev/null || true; }
trap stop_mock EXIT

measure() { # prints "wall user sys maxrss_kib"
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >/dev/null 2>"$work/stderr" || {
    cat "$work/stderr" >&2; exit 1; }
  cat "$work/time"
}

$SRM lua bench/llm_fanout/gen.lua "$N" 200 "$work/small.jsonl"
$SRM lua bench/llm_fanout/gen.lua "$N" 8000 "$work/big.jsonl"
skill=bench/llm_fanout/judge.lua
srm_args=(--no-progress --no-cache --model mock --overwrite)

echo "### 1. Latency bound: $N records x 1 call, 500 ms latency"
echo
echo "| runner | in flight | wall s | bound s | wall / bound | peak RSS |"
echo "|---|---:|---:|---:|---:|---:|"
start_mock --latency-ms 500
read -r w u s m < <(measure $SRM run $skill "$work/small.jsonl" -o "$work/srm1.jsonl" --endpoint "$URL" -j 1000 "${srm_args[@]}")
awk -v n="$N" -v w="$w" -v m="$m" 'BEGIN { b = n * 0.5 / 1000; printf "| srm | 1000 | %.2f | %.2f | %.3f | %.1f MiB |\n", w, b, w / b, m / 1024 }'
read -r w u s m < <(measure python3 bench/llm_fanout/baseline.py "$URL" "$work/small.jsonl" "$work/py1.jsonl" 80)
awk -v n="$N" -v w="$w" -v m="$m" 'BEGIN { b = n * 0.5 / 80; printf "| python ThreadPoolExecutor | 80 | %.2f | %.2f | %.3f | %.1f MiB |\n", w, b, w / b, m / 1024 }'
stop_mock
echo

echo "### 2. CPU per request: 0 ms latency, ~8 KB requests, ~1 KB replies"
echo
echo "| runner | requests | user+sys s | CPU per request | peak RSS |"
echo "|---|---:|---:|---:|---:|"
start_mock --latency-ms 0 --reply-bytes 1000
# CPU time on this (virtual) machine varies by up to a third from run to run: srm runs three
# times and the table shows the least and the most, the least being the least disturbed run.
cpus=()
for _ in 1 2 3; do
  read -r w u s m < <(measure $SRM run $skill "$work/big.jsonl" -o "$work/srm2.jsonl" --endpoint "$URL" -j 80 "${srm_args[@]}")
  cpus+=("$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')")
done
read -r lo hi < <(printf "%s\n" "${cpus[@]}" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo, hi }')
awk -v n="$N" -v lo="$lo" -v hi="$hi" -v m="$m" 'BEGIN { printf "| srm (best / worst of 3) | %d | %.2f / %.2f | %.1f / %.1f us | %.1f MiB |\n", n, lo, hi, lo / n * 1e6, hi / n * 1e6, m / 1024 }'
read -r w u s m < <(measure python3 bench/llm_fanout/baseline.py "$URL" "$work/big.jsonl" "$work/py2.jsonl" 80)
awk -v n="$N" -v u="$u" -v s="$s" -v m="$m" 'BEGIN { printf "| python ThreadPoolExecutor | %d | %.2f | %.1f us | %.1f MiB |\n", n, u + s, (u + s) / n * 1e6, m / 1024 }'
# The floor: libcurl alone sending the same requests (no JSON, no skill, no rows), best of 3.
floor=$(for _ in 1 2 3; do ./build-rel/curl-floor "$URL" "$work/big.jsonl" 80 | awk '{ print $3 + $4 }'; done | sort -g | head -1)
awk -v n="$N" -v c="$floor" 'BEGIN { printf "| libcurl alone, no JSON or skill (floor, best of 3) | %d | %.2f | %.1f us | |\n", n, c, c / n * 1e6 }'
stop_mock
echo

echo "### 3. Throughput at 80 in flight, 20 ms latency (bound 4,000 requests/s)"
echo
echo "| runner | requests/s | of bound | peak RSS |"
echo "|---|---:|---:|---:|"
start_mock --latency-ms 20
read -r w u s m < <(measure $SRM run $skill "$work/small.jsonl" -o "$work/srm3.jsonl" --endpoint "$URL" -j 80 "${srm_args[@]}")
awk -v n="$N" -v w="$w" -v m="$m" 'BEGIN { r = n / w; printf "| srm | %.0f | %.1f%% | %.1f MiB |\n", r, r / 4000 * 100, m / 1024 }'
read -r w u s m < <(measure python3 bench/llm_fanout/baseline.py "$URL" "$work/small.jsonl" "$work/py3.jsonl" 80)
awk -v n="$N" -v w="$w" -v m="$m" 'BEGIN { r = n / w; printf "| python ThreadPoolExecutor | %.0f | %.1f%% | %.1f MiB |\n", r, r / 4000 * 100, m / 1024 }'
stop_mock
for f in srm1 srm2 srm3; do
  [ "$(grep -c '"status":"ok"' "$work/$f.jsonl")" -eq "$N" ] || { echo "$f: not every row ok" >&2; exit 1; }
done
