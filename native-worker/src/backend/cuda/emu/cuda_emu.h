// The CPU emulator of the CUDA subset that the CUDA backend's kernels use (docs/cuda-backend.md), with the same
// names as CUDA, cuda_bf16.h, mma.h and cuBLAS. It exists so that CI, which has no GPU, can run every kernel's
// logic against the CPU reference: cuda_api.h includes it when GROVE_CUDA_EMU is defined.
//
// How it runs: a launch runs its blocks one after another on the calling host thread; the threads of a block are
// fibers that switch at __syncthreads, __syncwarp, shuffles and WMMA calls; launches from several host threads are
// serialised. __shared__ arrays are `static`. Launch configs, kernel pointer arguments, copies and cuBLAS operands
// are checked as a GPU would (a bad one is an error from cudaGetLastError, not a crash), and built with ASan an
// out-of-bounds access in a kernel fails the test.
//
// What it cannot show: real concurrency between blocks or warps (blocks never overlap, so inter-block races and
// missing __threadfence are invisible), the memory model (every write is visible at once), speed, register or
// shared-memory limits of a kernel, and the GPU's approximate intrinsics (__expf is expf here). Those wait for a
// GPU run (scripts/gpu-check.sh).
#pragma once

#include "backend/cuda/emu/bf16.h"
#include "backend/cuda/emu/cublas.h"
#include "backend/cuda/emu/device.h"
#include "backend/cuda/emu/runtime.h"
#include "backend/cuda/emu/wmma.h"
