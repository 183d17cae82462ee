#!/usr/bin/env bash
# Engine benchmark (CPU): builds the engine, then runs bench/engine_bench.cpp (fused vs sequential vs separate
# processes). The last line of output is a JSON object with the headline numbers.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build" -j2 --target grove-bench >/dev/null
"$root/build/bench/grove-bench" "${GROVE_BENCH_THREADS:-2}"
