// Grid sizes of the kernel launchers (kernel_util.cuh), in a host-only header so that the kernel tests can size
// inputs past one pass of the grid and so exercise every grid-stride loop.
#pragma once

namespace grove::cuda::kernel_util {

constexpr unsigned kBlock = 256;
// Grid-stride loops launch at most this many blocks: 4096 x 256 threads fill an H200 (132 SMs x 2048 threads)
// about four times over; bigger arrays loop instead of launching millions of blocks.
constexpr unsigned kMaxBlocks = 4096;
// Reductions need fewer blocks: each block ends in one atomic.
constexpr unsigned kReductionBlocks = 1024;
// CUDA's limit on gridDim.y; row loops stride past it.
constexpr unsigned kMaxGridY = 65535;

}  // namespace grove::cuda::kernel_util
