import { describe, expect, it } from 'vitest';
import { DatasetStatsCollector, histogramBounds } from './dataset-stats';

describe(histogramBounds.name, () => {
  it('doubles from 64 up to max_seq_len', () => {
    expect(histogramBounds(1024)).toEqual([64, 128, 256, 512, 1024]);
    expect(histogramBounds(3000)).toEqual([64, 128, 256, 512, 1024, 2048, 3000]);
    expect(histogramBounds(64)).toEqual([64]);
    expect(histogramBounds(16)).toEqual([16]);
  });
});

describe(DatasetStatsCollector.name, () => {
  it('sums kept and dropped examples and buckets lengths by upper bound', () => {
    const sut = new DatasetStatsCollector(256);
    sut.addKept(10, 4, false);
    sut.addKept(64, 30, false);
    sut.addKept(65, 1, false);
    sut.addKept(256, 100, true);
    sut.addDropped('overlength');
    sut.addDropped('no_targets');
    sut.addDropped('overlength');
    expect(sut.result()).toEqual({
      examples: 4,
      dropped: { overlength: 2, no_targets: 1 },
      truncated: 1,
      tokens: 395,
      target_tokens: 135,
      max_len: 256,
      mean_len: 98.75,
      histogram: [
        { le: 64, count: 2 },
        { le: 128, count: 1 },
        { le: 256, count: 1 },
      ],
    });
  });

  it('reports zeros, not NaN, when nothing was kept', () => {
    expect(new DatasetStatsCollector(128).result().mean_len).toBe(0);
  });
});
