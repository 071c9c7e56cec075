#!/usr/bin/env bash
# One benchmark end to end with the repo's scripted mock judge, no model needed:
#   benchmark files -> `srm run skills/reward_judge/main.lua --bench BENCH` -> rows -> `srm eval`.
# Usage: scripts/eval-e2e.sh judgebench|rmbench
#
# Builds srm and srm-mock if needed (build dir $SRM_BUILD_DIR, default build/), starts srm-mock
# on a free loopback port, runs the agent judge in the skill_operational setting with the
# "longer" mock script (--set mock_script=longer: use_skill, two resource views, run_lua, then
# the longer response as shown; see docs/agent.md), evaluates the rows with the official metric
# and prints the Markdown summary. The scores are those of that length-only judge, not of a
# model: the point is the pipeline. Data from $SRM_DATA_DIR (default ../shared/data):
#   judgebench  judgebench/pairs_gpt-4o.jsonl + pairs_claude-3.5-sonnet.jsonl (620 pairs, both orders)
#   rmbench     rmbench/{chat,code,safety-refuse,safety-response}_filtered.json (each file run
#               and evaluated on its own, then all rows together)
# Outputs (rows, tasks, metrics.json, summary.md) go to out/eval-e2e/BENCH/.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: scripts/eval-e2e.sh judgebench|rmbench" >&2; exit 2; }
[ $# -eq 1 ] || usage
bench=$1
case "$bench" in judgebench | rmbench) ;; *) usage ;; esac

dir=${SRM_BUILD_DIR:-build}
data=${SRM_DATA_DIR:-../shared/data}
out=out/eval-e2e/$bench

# ---- build (configure like scripts/build.sh on a fresh tree; keep an existing configuration)
if [ ! -f "$dir/CMakeCache.txt" ]; then
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
targets=$(cmake --build "$dir" --target help)
if ! grep -qw srm-mock <<<"$targets"; then
  echo "eval-e2e: srm-mock is not part of $dir (libmicrohttpd missing?): run scripts/install-deps.sh," \
    "then re-run this script" >&2
  exit 1
fi
cmake --build "$dir" -j"$(nproc)" --target srm srm-mock >/dev/null
srm=$dir/srm
mock_bin=$dir/tests/srm-mock

# ---- data
case "$bench" in
  judgebench) files=("$data/judgebench/pairs_gpt-4o.jsonl" "$data/judgebench/pairs_claude-3.5-sonnet.jsonl") ;;
  rmbench)
    files=()
    for f in chat code safety-refuse safety-response; do files+=("$data/rmbench/${f}_filtered.json"); done
    ;;
esac
for f in "${files[@]}"; do
  [ -r "$f" ] || { echo "eval-e2e: $f is missing (set SRM_DATA_DIR to the shared data directory)" >&2; exit 1; }
done
mkdir -p "$out"

# ---- the mock judge on a free loopback port; stopped on any exit
tmp=$(mktemp -d)
mock_pid=
cleanup() {
  if [ -n "$mock_pid" ]; then kill "$mock_pid" 2>/dev/null || true; wait "$mock_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
"$mock_bin" --host 127.0.0.1 --port 0 --port-file "$tmp/port" --parent-pid $$ \
  </dev/null >"$tmp/mock.out" 2>"$tmp/mock.err" &
mock_pid=$!
for _ in $(seq 1 500); do
  [ -s "$tmp/port" ] && break
  kill -0 "$mock_pid" 2>/dev/null || { echo "eval-e2e: srm-mock did not start:" >&2; cat "$tmp/mock.err" >&2; exit 1; }
  sleep 0.02
done
[ -s "$tmp/port" ] || { echo "eval-e2e: srm-mock did not report its port" >&2; exit 1; }
endpoint=http://127.0.0.1:$(cat "$tmp/port")/v1

# run NAME DATA: the agent judge on one benchmark file -> $out/NAME.rows.jsonl (+ .tasks.jsonl)
run() {
  echo "== srm run --bench $bench $2" >&2
  "$srm" run skills/reward_judge/main.lua "$2" --bench "$bench" -o "$out/$1.rows.jsonl" --overwrite \
    --endpoint "$endpoint" --model mock --no-cache --no-progress --set mock_script=longer \
    --map response_a=response_A,response_b=response_B
}

case "$bench" in
  judgebench)
    cat "${files[@]}" >"$out/pairs.jsonl"
    run judgebench "$out/pairs.jsonl"
    rows=("$out/judgebench.rows.jsonl")
    ;;
  rmbench)
    rows=()
    for f in "${files[@]}"; do
      name=$(basename "$f" _filtered.json)
      run "$name" "$f"
      "$srm" eval rmbench "$out/$name.rows.jsonl" -o "$out/$name.metrics.json" --md "$out/$name.summary.md"
      rows+=("$out/$name.rows.jsonl")
    done
    ;;
esac

cat "${rows[@]}" >"$out/rows.jsonl"
"$srm" eval "$bench" "$out/rows.jsonl" -o "$out/metrics.json" --md "$out/summary.md"
echo >&2
cat "$out/summary.md"
echo
echo "Judge: srm-mock's scripted \"longer\" agent (not a model). Rows, metrics.json and summary.md" \
  "are in $out/."
