#!/usr/bin/env bash
# bench/verifiers: the three verifier benchmarks of issue 4 in one run, each srm side by side
# with its baseline (see each script's header):
#   IFEval, GPT-4's 541 responses repeated to N records (bench/run_ifeval.sh N 1 2)
#   math answer equivalence, N pairs (bench/run_math.sh N)
#   1,000 sandboxed Python runs (bench/run_code.sh 1000 16)
# Usage: bench/verifiers/run.sh [N]   (default 100000). Prints the three Markdown tables.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-100000}
echo "### IFEval ($n records)"
echo
SRM_BUILD_DIR=${SRM_BUILD_DIR:-build-rel} bench/run_ifeval.sh "$n" 1 2
echo
echo "### Math ($n pairs)"
echo
bench/run_math.sh "$n"
echo
echo "### Sandboxed Python runs (1,000)"
echo
bench/run_code.sh 1000 16
