import { DropReason } from '../encoding/length-policy';

/** How many kept examples have at most `le` tokens (and more than the previous bucket's `le`). */
export interface HistogramBucket {
  le: number;
  count: number;
}

/** What tokenization produced; the scheduler predicts work from tokens per example. */
export interface DatasetStats {
  /** Examples written to the token file. */
  examples: number;
  dropped: Record<DropReason, number>;
  /** Kept examples that were cut to max_seq_len. */
  truncated: number;
  /** Tokens written, over all kept examples. */
  tokens: number;
  /** Tokens the loss is computed on. */
  target_tokens: number;
  max_len: number;
  mean_len: number;
  histogram: HistogramBucket[];
}

const FIRST_BUCKET = 64;

/** Bucket bounds 64, 128, 256, ... doubling below max_seq_len, then max_seq_len itself. */
export function histogramBounds(maxSeqLen: number): number[] {
  const bounds: number[] = [];
  for (let le = FIRST_BUCKET; le < maxSeqLen; le *= 2) bounds.push(le);
  bounds.push(maxSeqLen);
  return bounds;
}

/** Accumulates DatasetStats one example at a time, in constant memory. */
export class DatasetStatsCollector {
  private readonly bounds: number[];
  private readonly counts: number[];
  private readonly stats: Omit<DatasetStats, 'mean_len' | 'histogram'> = {
    examples: 0,
    dropped: { overlength: 0, no_targets: 0 },
    truncated: 0,
    tokens: 0,
    target_tokens: 0,
    max_len: 0,
  };

  constructor(maxSeqLen: number) {
    this.bounds = histogramBounds(maxSeqLen);
    this.counts = this.bounds.map(() => 0);
  }

  addKept(length: number, targetTokens: number, truncated: boolean): void {
    const stats = this.stats;
    stats.examples += 1;
    stats.tokens += length;
    stats.target_tokens += targetTokens;
    stats.max_len = Math.max(stats.max_len, length);
    if (truncated) stats.truncated += 1;
    const bucket = this.bounds.findIndex((le) => length <= le);
    this.counts[bucket === -1 ? this.counts.length - 1 : bucket] += 1;
  }

  addDropped(reason: DropReason): void {
    this.stats.dropped[reason] += 1;
  }

  result(): DatasetStats {
    const { examples, tokens } = this.stats;
    return {
      ...this.stats,
      dropped: { ...this.stats.dropped },
      mean_len: examples === 0 ? 0 : tokens / examples,
      histogram: this.bounds.map((le, i) => ({ le, count: this.counts[i] })),
    };
  }
}
