#!/usr/bin/env bash
# Installs the C++ dependencies, configures and builds the engine, and runs its C++ tests (ctest) except those
# labelled gpu (tests/cuda/*_gpu need a GPU; scripts/gpu-check.sh runs them). The real CUDA backend, grove_cuda,
# is compiled when nvcc and cuBLAS are found (GROVE_CUDA=AUTO); GROVE_CUDA=ON makes that required (CI sets it).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh"
cuda="${GROVE_CUDA:-AUTO}"
# cuBLAS comes from the venv's nvidia-cublas wheel (the CUDA toolkit here has none).
if ! "$root/scripts/setup-venv.sh"; then
  [[ "$cuda" == ON ]] && exit 1
  echo "test.sh: no project venv, so no cuBLAS: the real CUDA backend is built only if the toolkit has cuBLAS" >&2
fi
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release -DGROVE_CUDA="$cuda" >/dev/null
cmake --build "$root/build" -j2
ctest --test-dir "$root/build" --output-on-failure -j2 -LE gpu
