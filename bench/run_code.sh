#!/usr/bin/env bash
# Sandboxed Python runs: srm.code (fork + namespaces + Landlock + seccomp + rlimits, children
# driven by the event loop) against a Python baseline (subprocess.run with the same rlimits, new
# session, in a ThreadPoolExecutor) — same programs, same inputs, same concurrency, in one run.
# Each run is `python3 -I main.py` reading n on stdin and printing sum(range(n)); both sides
# check every output. Usage: bench/run_code.sh [RUNS [CONCURRENCY]]   (default: 1000 16)
# Prints a Markdown table (runs/s and peak RSS; RSS is the largest single process of the tree).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh build-rel >/dev/null
SRM=./build-rel/srm
work=bench/out/code
mkdir -p "$work"
runs=${1:-1000}
jobs=${2:-16}
command -v python3 >/dev/null || { echo "SKIPPED: python3 is needed" >&2; exit 77; }

# Records: {id, n, want}
python3 - "$runs" >"$work/records.jsonl" <<'EOF'
import json, sys
for i in range(int(sys.argv[1])):
    n = 1000 + i
    print(json.dumps({"id": i, "n": n, "want": str(sum(range(n)))}))
EOF

cat >"$work/skill.lua" <<'EOF'
local srm = require "srm"
local SRC = "print(sum(range(int(input()))))\n"
return srm.skill {
  name = "bench_code",
  evidence = {
    ran = function(record)
      local r = srm.code.run { cmd = { "python3", "-I", "main.py" }, files = { ["main.py"] = SRC },
        stdin = tostring(record.n) .. "\n", timeout = 10, cpu_s = 5, memory_mb = 512 }
      return r.status == "ok" and r.stdout == record.want .. "\n"
    end,
  },
  policy = "ran",
}
EOF

cat >"$work/baseline.py" <<'EOF'
# The baseline: subprocess.run per record with the same rlimits, in a thread pool.
import json, os, resource, subprocess, sys, tempfile
from concurrent.futures import ThreadPoolExecutor

SRC = "print(sum(range(int(input()))))\n"
MB = 1 << 20

def limits():
    resource.setrlimit(resource.RLIMIT_CPU, (5, 6))
    resource.setrlimit(resource.RLIMIT_AS, (512 * MB, 512 * MB))
    resource.setrlimit(resource.RLIMIT_NPROC, (64, 64))
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * MB, 64 * MB))
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

def one(rec):
    with tempfile.TemporaryDirectory(prefix="srm-bench-") as d:
        with open(os.path.join(d, "main.py"), "w") as f:
            f.write(SRC)
        try:
            p = subprocess.run(["python3", "-I", "main.py"], input=f"{rec['n']}\n", cwd=d,
                               env={"PATH": "/usr/bin:/bin", "HOME": d}, capture_output=True,
                               text=True, timeout=10, preexec_fn=limits, start_new_session=True)
        except subprocess.TimeoutExpired:
            return False
    return p.returncode == 0 and p.stdout == rec["want"] + "\n"

recs = [json.loads(l) for l in open(sys.argv[1])]
with ThreadPoolExecutor(max_workers=int(sys.argv[2])) as ex:
    ok = sum(ex.map(one, recs))
if ok != len(recs):
    sys.exit(f"baseline: {len(recs) - ok} runs failed")
EOF

measure() { # prints "seconds peak_kib" of a command
  /usr/bin/time -f "%e %M" -o "$work/.time" "$@" >/dev/null 2>"$work/.stderr" || {
    cat "$work/.stderr" >&2; exit 1; }
  cat "$work/.time"
}

read -r s_sec s_kib < <(measure $SRM run "$work/skill.lua" "$work/records.jsonl" \
  -o "$work/rows.jsonl" --overwrite --no-progress -j "$jobs")
bad=$(grep -vc '"score":1,' "$work/rows.jsonl" || true)
[ "$bad" -eq 0 ] || { echo "srm: $bad runs failed" >&2; exit 1; }
read -r p_sec p_kib < <(measure python3 "$work/baseline.py" "$work/records.jsonl" "$jobs")

echo "| runs | concurrency | srm.code runs/s | srm peak RSS | Python subprocess runs/s | Python peak RSS | srm / Python |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
awk -v n="$runs" -v j="$jobs" -v ss="$s_sec" -v sk="$s_kib" -v ps="$p_sec" -v pk="$p_kib" 'BEGIN {
  sr = n / (ss > 0 ? ss : 0.01); pr = n / (ps > 0 ? ps : 0.01);
  printf "| %d | %d | %.0f | %.1f MiB | %.0f | %.1f MiB | %.2fx |\n", n, j, sr, sk/1024, pr, pk/1024, sr/pr }'
