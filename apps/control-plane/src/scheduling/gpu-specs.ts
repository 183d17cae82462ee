/**
 * Throughput priors per GPU model, from NVIDIA datasheets (dense bf16 tensor-core FLOP/s, HBM bytes/s). They seed
 * the throughput model only; measured step times correct it online. Matched by substring of the reported GPU name.
 */
export interface GpuSpec {
  peakFlops: number;
  hbmBytesPerSecond: number;
  contextBytes?: number;
  marginMinBytes?: number;
}

const KNOWN: readonly (readonly [string, GpuSpec])[] = [
  ['H200', { peakFlops: 989e12, hbmBytesPerSecond: 4.8e12 }],
  ['H100', { peakFlops: 989e12, hbmBytesPerSecond: 3.35e12 }],
  ['B200', { peakFlops: 2250e12, hbmBytesPerSecond: 8e12 }],
  ['A100', { peakFlops: 312e12, hbmBytesPerSecond: 2.0e12 }],
  ['L40S', { peakFlops: 362e12, hbmBytesPerSecond: 0.864e12 }],
  ['L4', { peakFlops: 121e12, hbmBytesPerSecond: 0.3e12 }],
  ['A10', { peakFlops: 125e12, hbmBytesPerSecond: 0.6e12 }],
  ['4090', { peakFlops: 165e12, hbmBytesPerSecond: 1.0e12 }],
];

/** A GPU we have no datasheet for: a mid-range guess the online fit corrects. */
const UNKNOWN_GPU: GpuSpec = { peakFlops: 100e12, hbmBytesPerSecond: 1e12 };

/**
 * The CPU reference backend: a few cores' worth of fp32 BLAS, no CUDA context (the process and BLAS buffers are tens
 * of MiB), and a slot budget that is a setting rather than a card, so a smaller fixed margin.
 */
export const CPU_SPEC: GpuSpec = { peakFlops: 5e10, hbmBytesPerSecond: 2e10, contextBytes: 64 * 2 ** 20, marginMinBytes: 256 * 2 ** 20 };

export function gpuSpecFor(name: string): GpuSpec {
  const upper = name.toUpperCase();
  return KNOWN.find(([key]) => upper.includes(key))?.[1] ?? UNKNOWN_GPU;
}
