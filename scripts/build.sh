#!/usr/bin/env bash
# Configures and builds srm. Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
# SRM_SANITIZE=1 builds with AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [ "${SRM_SANITIZE:-0}" = 1 ]; then args=(-DCMAKE_BUILD_TYPE=Debug -DSRM_SANITIZE=ON); fi
cmake -S . -B "$dir" "${args[@]}" "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
