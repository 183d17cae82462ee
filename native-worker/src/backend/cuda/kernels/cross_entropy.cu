// Token cross-entropy over one chunk of fp32 logits [rows, vocab] (row-major). Forward: per row, an online
// max/sum-of-exp over the vocabulary (each thread keeps a running (max, sum), merged by warp shuffles and a block
// reduction), lse = max + log(sum), loss = lse - logits[target]; one block per row. Backward:
// dlogits = w[t] * (softmax - onehot(target)) = w * exp(logit - lse) - w at the target, written as TG; 2-D grid,
// y over rows and x over vocabulary tiles. Rows with target < 0 get loss 0, lse 0 and gradient 0. With TG = float,
// dlogits may alias logits: each element is read and then written by the same thread.
#include "backend/cuda/kernels/kernel_util.cuh"
#include "backend/cuda/kernels/kernels.h"

namespace grove::cuda {

using namespace kernel_util;

namespace {

// Running softmax denominator: sum of exp(x - max) over the values seen. Empty: max = -inf, sum = 0.
struct MaxSum {
  float max;
  float sum;
};

__device__ __forceinline__ MaxSum merge(MaxSum a, MaxSum b) {
  const float mx = fmaxf(a.max, b.max);
  if (mx == -INFINITY) return a;  // both empty (exp(-inf - -inf) would be NaN)
  return {mx, a.sum * expf(a.max - mx) + b.sum * expf(b.max - mx)};
}

__device__ __forceinline__ MaxSum warp_merge(MaxSum v) {
  for (int offset = 16; offset > 0; offset >>= 1)
    v = merge(v, MaxSum{__shfl_xor_sync(0xffffffffu, v.max, offset), __shfl_xor_sync(0xffffffffu, v.sum, offset)});
  return v;
}

// Up to 1024 threads per block (row_block of the vocabulary).
__global__ void __launch_bounds__(1024)
    cross_entropy_forward_kernel(const float* __restrict__ logits, const int32_t* __restrict__ targets, int rows,
                                 int vocab, float* __restrict__ loss, float* __restrict__ lse) {
  __shared__ float scratch_max[32];
  __shared__ float scratch_sum[32];
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int r = blockIdx.x; r < rows; r += gridDim.x) {
    const int target = targets[r];
    if (target < 0) {  // the same for the whole block, so no thread skips a barrier another one waits at
      if (threadIdx.x == 0) loss[r] = lse[r] = 0.0f;
      continue;
    }
    const float* l = logits + static_cast<size_t>(r) * vocab;
    MaxSum v{-INFINITY, 0.0f};
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
      const float x = l[i];
      if (x > v.max) {  // one exp per element: rescale the sum only when the max moves
        v.sum = v.sum * expf(v.max - x) + 1.0f;
        v.max = x;
      } else {
        v.sum += expf(x - v.max);  // NaN logits fall here and make the sum NaN
      }
    }
    v = warp_merge(v);
    if (lane == 0) {
      scratch_max[warp] = v.max;
      scratch_sum[warp] = v.sum;
    }
    __syncthreads();
    v = lane < blockDim.x / 32 ? MaxSum{scratch_max[lane], scratch_sum[lane]} : MaxSum{-INFINITY, 0.0f};
    v = warp_merge(v);
    if (threadIdx.x == 0) {
      const float row_lse = v.max + logf(v.sum);
      lse[r] = row_lse;
      loss[r] = row_lse - l[target];
    }
    __syncthreads();  // scratch is rewritten for the next row
  }
}

template <typename TG>
__global__ void cross_entropy_backward_kernel(const float* logits, const int32_t* __restrict__ targets,
                                              const float* __restrict__ row_weight, const float* __restrict__ lse,
                                              int rows, int vocab, TG* dlogits) {
  for (int r = blockIdx.y; r < rows; r += gridDim.y) {
    const int target = targets[r];
    const float w = target < 0 ? 0.0f : (row_weight != nullptr ? row_weight[r] : 1.0f);
    const float row_lse = lse[r];
    const float* l = logits + static_cast<size_t>(r) * vocab;
    TG* g = dlogits + static_cast<size_t>(r) * vocab;
    for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < vocab; c += gridDim.x * blockDim.x) {
      float d = 0.0f;
      if (w != 0.0f) {
        d = w * expf(l[c] - row_lse);
        if (c == target) d -= w;
      }
      g[c] = from_float<TG>(d);
    }
  }
}

}  // namespace

void cross_entropy_forward(const float* logits, const int32_t* targets, int rows, int vocab, float* loss, float* lse,
                           cudaStream_t stream) {
  if (rows <= 0) return;
  GROVE_LAUNCH(blocks_for(static_cast<size_t>(rows), 1), row_block(vocab), 0, stream, cross_entropy_forward_kernel)(
      logits, targets, rows, vocab, loss, lse);
  GROVE_CHECK_LAUNCH("cross_entropy_forward");
}

template <typename TG>
void cross_entropy_backward(const float* logits, const int32_t* targets, const float* row_weight, const float* lse,
                            int rows, int vocab, TG* dlogits, cudaStream_t stream) {
  if (rows <= 0 || vocab <= 0) return;
  const RowsColsLaunch launch = rows_cols_launch(rows, vocab);
  GROVE_LAUNCH(launch.grid, launch.block, 0, stream, cross_entropy_backward_kernel<TG>)(logits, targets, row_weight,
                                                                                       lse, rows, vocab, dlogits);
  GROVE_CHECK_LAUNCH("cross_entropy_backward");
}

template void cross_entropy_backward<float>(const float*, const int32_t*, const float*, const float*, int, int,
                                            float*, cudaStream_t);
template void cross_entropy_backward<bf16>(const float*, const int32_t*, const float*, const float*, int, int, bf16*,
                                           cudaStream_t);

}  // namespace grove::cuda
