#!/usr/bin/env bash
# Builds what scripts/gpu-check.sh runs on a GPU machine, here (nvcc and cuBLAS from the venv; no GPU needed):
# the CUDA kernel and engine tests (*_gpu), the CUDA benchmark, the calibration runs and grove-engine, into
# native-worker/build-gpu, stripped, with the host libraries the device image lacks (OpenBLAS, libgfortran) packed
# into bundle.tar.xz.
# Then, from the repo root, the device tool runs: bash native-worker/scripts/gpu-check.sh (carry native-worker/build-gpu).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo="$(cd "$root/.." && pwd)"
build="$root/build-gpu"
"$root/scripts/install-deps.sh"
"$root/scripts/setup-venv.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DGROVE_CUDA=ON -DGROVE_EMU_ASAN=OFF >/dev/null
targets=(grove-engine grove-cuda-bench-gpu grove-calibrate-gpu)
for t in "$root"/tests/cuda/*_test.cpp; do
  name="$(basename "$t" .cpp)"
  targets+=("${name}_gpu")  # emu_test_gpu checks the emulator against the hardware
done
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"
bundle="$build/bundle"
rm -rf "$bundle" && mkdir -p "$bundle/bin" "$bundle/lib"
cp "$build/grove-engine" "$build/bench/grove-cuda-bench-gpu" "$build/bench/grove-calibrate-gpu" "$bundle/bin/"
cp "$build"/tests/cuda/*_gpu "$bundle/bin/"
strip "$bundle"/bin/*
for lib in libopenblas.so.0 libgfortran.so.5 libquadmath.so.0; do
  cp -L "$(ldd "$bundle/bin/grove-engine" | awk -v l="$lib" '$1 == l {print $3}')" "$bundle/lib/"
done
tar -C "$bundle" -cJf "$build/bundle.tar.xz" bin lib
rm -rf "$bundle"
echo "gpu-build: $(du -h "$build/bundle.tar.xz" | cut -f1) in $build/bundle.tar.xz (carry native-worker/build-gpu/bundle.tar.xz)"
