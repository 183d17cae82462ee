// Embedding lookup out[t, :] = table[ids[t], :] (table [vocab, dim], out [tokens, dim], row-major) and its
// backward dtable[ids[t], :] += dout[t, :] in fp32 with atomics, since ids repeat. 2-D grid: y over tokens,
// x over column tiles of the row. ids are trusted to be in [0, vocab) (the engine validates token files).
#include "backend/cuda/kernels/kernel_util.cuh"
#include "backend/cuda/kernels/kernels.h"

namespace grove::cuda {

using namespace kernel_util;

namespace {

template <typename T>
__global__ void embedding_forward_kernel(const T* __restrict__ table, const int32_t* __restrict__ ids, int tokens,
                                         int dim, T* __restrict__ out) {
  for (int t = blockIdx.y; t < tokens; t += gridDim.y) {
    const T* src = table + static_cast<size_t>(ids[t]) * dim;
    T* dst = out + static_cast<size_t>(t) * dim;
    for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < dim; c += gridDim.x * blockDim.x) dst[c] = src[c];
  }
}

__global__ void embedding_backward_kernel(const float* __restrict__ dout, const int32_t* __restrict__ ids,
                                          int tokens, int dim, float* dtable) {
  for (int t = blockIdx.y; t < tokens; t += gridDim.y) {
    float* dst = dtable + static_cast<size_t>(ids[t]) * dim;
    const float* src = dout + static_cast<size_t>(t) * dim;
    for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < dim; c += gridDim.x * blockDim.x)
      atomicAdd(dst + c, src[c]);
  }
}

}  // namespace

template <typename T>
void embedding_forward(const T* table, const int32_t* ids, int tokens, int dim, T* out, cudaStream_t stream) {
  if (tokens <= 0 || dim <= 0) return;
  const RowsColsLaunch launch = rows_cols_launch(tokens, dim);
  GROVE_LAUNCH(launch.grid, launch.block, 0, stream, embedding_forward_kernel<T>)(table, ids, tokens, dim, out);
  GROVE_CHECK_LAUNCH("embedding_forward");
}

void embedding_backward(const float* dout, const int32_t* ids, int tokens, int dim, float* dtable,
                        cudaStream_t stream) {
  if (tokens <= 0 || dim <= 0) return;
  const RowsColsLaunch launch = rows_cols_launch(tokens, dim);
  GROVE_LAUNCH(launch.grid, launch.block, 0, stream, embedding_backward_kernel)(dout, ids, tokens, dim, dtable);
  GROVE_CHECK_LAUNCH("embedding_backward");
}

template void embedding_forward<float>(const float*, const int32_t*, int, int, float*, cudaStream_t);
template void embedding_forward<bf16>(const bf16*, const int32_t*, int, int, bf16*, cudaStream_t);

}  // namespace grove::cuda
