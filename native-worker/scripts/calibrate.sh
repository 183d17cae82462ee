#!/usr/bin/env bash
# Measures the engine for the scheduler's calibration and fits it (libs/scheduler/README.md, "Calibration from the
# engine"): builds grove-calibrate, runs it on the CPU backend (and with --emulated on the CUDA backend under the
# emulator: its bf16 memory layout, a few minutes), writes the runs to OUT_DIR (default native-worker/build/calibration)
# and prints the fit; its last line is a JSON object. To refresh the committed measurements, copy OUT_DIR/*.json to
# libs/scheduler/src/calibration/engine-measurements/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
emulated=0
out="$root/build/calibration"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --emulated) emulated=1 ;;
    --out) out="$2"; shift ;;
    *) echo "usage: calibrate.sh [--emulated] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done
"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
targets=(grove-calibrate)
[[ $emulated == 1 ]] && targets+=(grove-calibrate-emu)
cmake --build "$root/build" -j2 --target "${targets[@]}" >/dev/null
mkdir -p "$out"
"$root/build/bench/grove-calibrate" --shapes small --threads "${GROVE_BENCH_THREADS:-2}" --out "$out/cpu.json" >/dev/null
files=("$out/cpu.json")
if [[ $emulated == 1 ]]; then
  "$root/build/bench/grove-calibrate-emu" --shapes tiny --out "$out/cuda-emulated.json" >/dev/null
  files+=("$out/cuda-emulated.json")
fi
cd "$root/.."
node -r @swc-node/register libs/scheduler/bench/fit-engine-calibration.ts "${files[@]}"
