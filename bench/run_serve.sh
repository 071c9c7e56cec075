#!/usr/bin/env bash
# bench/serve: srm serve under load (wrk, 2 connections per core, a rule skill) next to the usual
# Python reward server (ThreadingHTTPServer, same rule), then srm serve again while the skill is
# rewritten every 100 ms (hot reload under load): every request must still succeed.
# Usage: [SRM_SERVE_WORKERS=N] bench/run_serve.sh [SECONDS]   (default 10 s, 1 worker). Prints
# Markdown tables.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
scripts/build.sh build-rel >/dev/null
SRM=./build-rel/srm
secs=${1:-10}
conns=$(( 2 * $(nproc) ))
work=bench/out/serve
mkdir -p "$work"
cp bench/serve/equal.lua "$work/equal.lua"

pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

peak_rss() { awk '/VmHWM/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$1/status"; }
free_port() { python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }
wait_up() { for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/v1/score" -d '{"records":[]}' && return 0; sleep 0.05; done; return 1; }

# wrk's summary -> "req/s p50 p99 errors" (errors: socket errors + non-2xx responses)
run_wrk() {
  wrk -t2 -c"$conns" -d"${secs}s" --latency -s bench/serve/post.lua "http://127.0.0.1:$1" >"$work/wrk.txt"
  awk '
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
    /Socket errors/ { gsub(",", ""); err += $4 + $6 + $8 + $10 }
    /Non-2xx/ { err += $5 }
    END { printf "%s %s %s %d\n", rps, p50, p99, err }' "$work/wrk.txt"
}

echo "| server | connections | requests/s | p50 | p99 | failed requests | peak RSS |"
echo "|---|---:|---:|---:|---:|---:|---:|"
port=$(free_port)
$SRM serve "$work/equal.lua" --port "$port" --workers "${SRM_SERVE_WORKERS:-1}" 2>"$work/srm.err" &
pid=$!
wait_up "$port"
read -r rps p50 p99 err < <(run_wrk "$port")
rss=$(peak_rss "$pid")
kill -TERM "$pid"; wait "$pid" || true; pid=""
echo "| srm serve | $conns | $rps | $p50 | $p99 | $err | $rss |"

port=$(free_port)
python3 bench/serve/baseline.py "$port" &
pid=$!
wait_up "$port"
read -r prps pp50 pp99 perr < <(run_wrk "$port")
rss=$(peak_rss "$pid")
kill -TERM "$pid"; wait "$pid" || true; pid=""
echo "| python ThreadingHTTPServer | $conns | $prps | $pp50 | $pp99 | $perr | $rss |"
awk -v a="$rps" -v b="$prps" 'BEGIN { printf "\nsrm / python requests/s: %.1fx\n\n", a / b }'

echo "### hot reload every 100 ms under the same load"
echo
port=$(free_port)
$SRM serve "$work/equal.lua" --port "$port" --workers "${SRM_SERVE_WORKERS:-1}" 2>"$work/reload.err" &
pid=$!
wait_up "$port"
( end=$((SECONDS + secs)); i=0
  while [ $SECONDS -lt $end ]; do
    i=$((i + 1))
    sed "s/^-- bench\/serve:.*/-- bench\/serve: version $i/" bench/serve/equal.lua >"$work/equal.lua.tmp"
    mv "$work/equal.lua.tmp" "$work/equal.lua"
    sleep 0.1
  done ) &
editor=$!
read -r rps p50 p99 err < <(run_wrk "$port")
wait "$editor"
sleep 0.3
gens=$(curl -s "http://127.0.0.1:$port/v1/skills" | python3 -c "import json,sys; print(json.load(sys.stdin)['skills'][0]['generation'])")
reloads=$(grep -c "reloaded" "$work/reload.err" || true)
kill -TERM "$pid"; wait "$pid" || true; pid=""
echo "| requests/s | p50 | p99 | failed requests | reloads done | final generation |"
echo "|---:|---:|---:|---:|---:|---:|"
echo "| $rps | $p50 | $p99 | $err | $reloads | $gens |"
[ "$err" -eq 0 ] || { echo "FAILED: $err requests failed during reloads" >&2; exit 1; }
