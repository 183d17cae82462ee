import { describe, expect, it } from 'vitest';
import { LedgerGpu } from './gpu-ledger';
import { RescueTimes } from './rescue-times';
import { calibration, gpu, running } from '../testing/scenario';
import { MemoryModel } from '../memory/memory-model';
import { ThroughputModel } from '../throughput/throughput-model';
import type { GpuState } from './cluster-state';

const now = 50_000;
const minRun = 600;

function rescue(states: GpuState[]) {
  const memory = new MemoryModel(calibration);
  const throughput = new ThroughputModel(calibration);
  const ledgers = states.map((s, i) => new LedgerGpu(i, s, memory, throughput, now));
  return { times: new RescueTimes(ledgers, minRun), ledgers };
}

describe(RescueTimes.name, () => {
  it('needs the minimum run time even for a free GPU (another job may take it first)', () => {
    const { times } = rescue([gpu('n1/g0')]);

    expect(times.secondsToSecure(1_000, now, [0])).toBe(minRun);
  });

  it('needs the minimum run time where every job there arrived after the waiting one', () => {
    const { times } = rescue([gpu('n1/g0', { jobs: [running('later', { arrivalAt: 2_000, startedAt: now - 10 })] })]);

    expect(times.secondsToSecure(1_000, now, [0])).toBe(minRun);
  });

  it('waits for the first drain among GPUs that hold a job that arrived before it', () => {
    const { times, ledgers } = rescue([
      gpu('n1/g0', { jobs: [running('early-long', { arrivalAt: 0, remainingTokens: 1e9 })] }),
      gpu('n1/g1', { jobs: [running('early-short', { arrivalAt: 0, remainingTokens: 1e8 })] }),
    ]);

    const seconds = times.secondsToSecure(1_000, now, [0, 1]);

    expect(seconds).toBeCloseTo(ledgers[1].drainAt() - now, 6);
    expect(seconds).toBeGreaterThan(minRun);
  });

  it('ignores cordoned GPUs and GPUs outside the list', () => {
    const { times } = rescue([gpu('n1/g0', { cordoned: true }), gpu('n2/g0')]);

    expect(times.secondsToSecure(1_000, now, [0])).toBe(Infinity);
    expect(times.secondsToSecure(1_000, now, [0, 1])).toBe(minRun);
  });
});
