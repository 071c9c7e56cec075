#!/usr/bin/env bash
# The agent judge on JudgeBench end to end, and the runtime's own CPU per agent turn.
#
# skills/reward_judge/main.lua runs on the 620 pairs of ../shared/data/judgebench/ (1,240 tasks,
# both games) through `srm run --bench judgebench` against srm-mock at 0 ms latency, playing the
# "longer" judge (--set mock_script=longer: use_skill, two parallel views, run_lua, final_answer
# naming the longer response; docs/agent.md). Each task runs both orders, 4 turns each, so a run
# makes 9,920 model requests. Then `srm eval judgebench` scores the rows.
#
# CPU per turn = (user + sys of the srm process) / (model requests the mock answered). The mock
# is a separate process, so its CPU is excluded (shown apart); the figure includes srm's startup,
# the benchmark expansion, the skill's self-tests (8 canned calls) and writing rows and traces.
# Rows compared: the agent loop with and without --trace, and the `baseline` setting (a direct
# judge, one request per order, no tools) as the reference cost of a plain model call in srm.
#
# Usage: bench/run_agent_judgebench.sh [REPEATS]   (default 3; the best run of each is shown)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SRM_BUILD_DIR:-build-rel}
scripts/build.sh "$build" >/dev/null
SRM=./$build/srm
MOCK=./$build/tests/srm-mock
data_dir=${SRM_JUDGEBENCH_DIR:-../shared/data/judgebench}
repeats=${1:-3}
work=bench/out/agent-judgebench
mkdir -p "$work"
[ -x "$MOCK" ] || { echo "srm-mock is not built (libmicrohttpd-dev)" >&2; exit 1; }
for f in pairs_gpt-4o.jsonl pairs_claude-3.5-sonnet.jsonl; do
  [ -f "$data_dir/$f" ] || { echo "missing $data_dir/$f" >&2; exit 1; }
done
cat "$data_dir/pairs_gpt-4o.jsonl" "$data_dir/pairs_claude-3.5-sonnet.jsonl" >"$work/pairs.jsonl"

rm -f "$work/port"
"$MOCK" --latency-ms 0 --port-file "$work/port" --parent-pid $$ 2>"$work/mock.stderr" &
mock_pid=$!
trap 'kill "$mock_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
base="http://127.0.0.1:$(cat "$work/port")"

mock_requests() { curl -s "$base/stats" | sed -n 's/.*"requests":\([0-9]*\).*/\1/p'; }
mock_ticks() { awk '{ print $14 + $15 }' "/proc/$mock_pid/stat"; }

common=(--endpoint "$base/v1" --model mock --no-progress --no-cache --set mock_script=longer
  --map response_a=response_A,response_b=response_B)

echo "| setting | rows | model requests | srm CPU (user+sys) | CPU per turn | wall | peak RSS | mock CPU | JudgeBench score |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
run_case() { # label setting trace(0|1)
  local label=$1 setting=$2 trace=$3 best="" line=""
  for _ in $(seq "$repeats"); do
    local out="$work/rows-$setting-$trace.jsonl" tr="$work/trace-$setting-$trace.jsonl"
    rm -f "$out" "$out.tasks.jsonl" "$tr"
    local extra=()
    [ "$trace" = 1 ] && extra=(--trace "$tr")
    local r0 t0
    r0=$(mock_requests); t0=$(mock_ticks)
    /usr/bin/time -f "%U %S %e %M" -o "$work/.time" "$SRM" run skills/reward_judge/main.lua \
      "$work/pairs.jsonl" --bench judgebench -o "$out" --set "setting=$setting" "${common[@]}" \
      "${extra[@]}" >/dev/null 2>"$work/.stderr" || { cat "$work/.stderr" >&2; exit 1; }
    local req ticks rows ok score
    req=$(( $(mock_requests) - r0 )); ticks=$(( $(mock_ticks) - t0 ))
    rows=$(wc -l <"$out"); ok=$(grep -c '"status":"ok"' "$out" || true)
    [ "$rows" -eq 1240 ] && [ "$ok" -eq 1240 ] || { echo "$label: $ok of $rows rows ok" >&2; exit 1; }
    if [ "$trace" = 1 ]; then
      [ "$(wc -l <"$tr")" -eq 1240 ] || { echo "$label: trace lines != 1240" >&2; exit 1; }
    fi
    score=$("$SRM" eval judgebench "$out" | sed -n 's/^  "score": \(.*\),\{0,1\}$/\1/p' | tr -d ,)
    read -r u s e k <"$work/.time"
    local cpu us
    cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
    us=$(awk -v c="$cpu" -v n="$req" 'BEGIN { printf "%.0f", c * 1e6 / n }')
    if [ -z "$best" ] || [ "$us" -lt "$best" ]; then
      best=$us
      line=$(awk -v l="$label" -v r="$rows" -v n="$req" -v c="$cpu" -v us="$us" -v e="$e" \
        -v k="$k" -v t="$ticks" -v sc="$score" 'BEGIN {
        printf "| %s | %d | %d | %.2f s | %d µs | %.2f s | %.1f MiB | %.2f s | %.2f |",
          l, r, n, c, us, e, k / 1024, t / 100, sc }')
    fi
  done
  echo "$line"
}
run_case "skill_operational, --trace" skill_operational 1
run_case "skill_operational" skill_operational 0
run_case "baseline (direct judge, no tools)" baseline 0
echo
echo "Command (skill_operational, --trace): srm run skills/reward_judge/main.lua pairs.jsonl"
echo "  --bench judgebench -o rows.jsonl --trace trace.jsonl ${common[*]}"
echo "  then: srm eval judgebench rows.jsonl. Build: $build; srm-mock --latency-ms 0; best of $repeats."
echo "CPU per turn = srm user+sys / model requests answered by the mock (the mock's CPU excluded)."
