#!/usr/bin/env bash
# The one script for a GPU machine (docs/cuda-backend.md): runs the CUDA backend's tests (every kernel against the
# CPU reference, the backend's ops, a whole training step against the CPU backend, fused == alone), then the
# benchmark side by side with HF transformers + PEFT, the engine runs the scheduler's calibration is fitted from
# (calibrate.json), and prints a table and a last JSON line.
#   On the GPU machine, from the repo root, after scripts/gpu-build.sh here:
#     bash native-worker/scripts/gpu-check.sh            (carry native-worker/build-gpu/bundle.tar.xz)
#   Here, without a GPU: bash native-worker/scripts/gpu-check.sh --dry-run
#     the same steps on the emulated build (build/, tests *_emu, the tiny shape) and PEFT on the CPU.
# Logs and JSON go to $OUT (the device tool's output folder) or /tmp/grove-gpu-check.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo="$(cd "$root/.." && pwd)"
out="${OUT:-/tmp/grove-gpu-check}"
mkdir -p "$out"
dry=0
[[ "${1:-}" == "--dry-run" ]] && dry=1
start=$(date +%s)
stamp() { echo "[gpu-check +$(( $(date +%s) - start ))s] $*"; }
failures=0

if (( dry )); then
  bin="$root/build/tests/cuda"; bench="$root/build/bench/grove-cuda-bench-emu"; suffix=_emu
  calibrate="$root/build/bench/grove-calibrate-emu"; calibrate_args=(--shapes tiny)
  python="$repo/.venv/bin/python"; hf_args=(--device cpu --shapes tiny --seqs 64,128); bench_args=(--shapes tiny --seqs 64,128)
  cmake --build "$root/build" -j2 --target grove-cuda-bench-emu grove-calibrate-emu $(cd "$root/tests/cuda" && ls *_test.cpp | sed 's/\.cpp$/_emu/') >/dev/null || exit 1
else
  work=/tmp/grove-gpu
  rm -rf "$work" && mkdir -p "$work"
  tar -C "$work" -xJf "$root/build-gpu/bundle.tar.xz" || exit 1
  bin="$work/bin"; bench="$work/bin/grove-cuda-bench-gpu"; suffix=_gpu; python=python3
  calibrate="$work/bin/grove-calibrate-gpu"; calibrate_args=(--shapes gpu)
  hf_args=(); bench_args=()
  # cuBLAS 13 is too big to carry: use the device image's (PyTorch's nvidia-cublas wheel, or the CUDA toolkit).
  cublas_dir="$(python3 - <<'PY'
import glob, site
hits = [h for p in site.getsitepackages() for h in glob.glob(p + "/nvidia/**/libcublas.so.13", recursive=True)]
hits += glob.glob("/usr/local/cuda*/lib*/libcublas.so.13") + glob.glob("/usr/local/cuda*/targets/*/lib/libcublas.so.13")
print(hits[0].rsplit("/", 1)[0] if hits else "")
PY
)"
  stamp "cuBLAS from ${cublas_dir:-nowhere}"
  export LD_LIBRARY_PATH="$work/lib:${cublas_dir}:${LD_LIBRARY_PATH:-}"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
fi

stamp "tests"
for t in "$bin"/*_test"$suffix"; do
  name="$(basename "$t")"
  [[ "$name" == emu_test_emu ]] && continue  # the emulator's own test; emu_test_gpu checks it against a GPU
  if "$t" >"$out/$name.log" 2>&1; then
    stamp "ok   $name ($(grep -o '[0-9]* tests\? from [0-9]* test suites\? ran' "$out/$name.log" | head -1))"
  else
    stamp "FAIL $name"; grep -E "Failure|Expected|actual|Which is|exception" "$out/$name.log" | head -20
    failures=$((failures + 1))
  fi
done

stamp "engine benchmark"
"$bench" "${bench_args[@]}" --out "$out/grove.json" 2>"$out/bench.err" | tee "$out/bench.txt" | head -n -1
stamp "HF PEFT: one job at a time"
PYTHONUNBUFFERED=1 "$python" "$root/bench/hf_peft_bench.py" single "${hf_args[@]}" --out "$out/hf_single.json" \
  2>"$out/hf_single.err" || { stamp "HF single failed"; tail -5 "$out/hf_single.err"; }
stamp "HF PEFT: 4 separate processes"
if (( dry )); then sep_args=(--device cpu --shapes tiny --seqs 64); else sep_args=(--shapes llama2-7b --seqs 512); fi
PYTHONUNBUFFERED=1 "$python" "$root/bench/hf_peft_bench.py" separate --k 4 "${sep_args[@]}" --out "$out/hf_separate.json" \
  2>"$out/hf_separate.err" || { stamp "HF separate failed"; tail -5 "$out/hf_separate.err"; }
stamp "report"
"$python" "$root/bench/gpu_report.py" "$out/grove.json" "$out/hf_single.json" "$out/hf_separate.json" | tee "$out/report.txt"
# Last: the report above is already written if this runs out of time.
stamp "engine measurements for the scheduler's calibration (libs/scheduler/README.md)"
timeout 150 "$calibrate" "${calibrate_args[@]}" --out "$out/calibrate.json" >"$out/calibrate.txt" 2>&1 \
  || { stamp "calibration runs failed or timed out"; tail -3 "$out/calibrate.txt"; }
stamp "done: $failures failing test binaries"
exit $(( failures > 0 ))
