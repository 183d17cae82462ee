import { describe, expect, it } from 'vitest';
import { JoinableBound } from './joinable-bound';
import { LedgerGpu, toLedgerJob } from './gpu-ledger';
import { MemoryModel } from '../memory/memory-model';
import { ThroughputModel } from '../throughput/throughput-model';
import { calibration, gpu, running } from '../testing/scenario';

/** The bound by definition: the most free memory among member GPUs whose every job has at least `steps` left. */
function bruteForce(gpus: readonly LedgerGpu[], members: ReadonlySet<number>, steps: number): number {
  let best = -Infinity;
  for (const i of members) if (gpus[i].minRemainingSteps() >= steps) best = Math.max(best, gpus[i].freeBytes());
  return best;
}

describe(JoinableBound.name, () => {
  it('agrees with a scan of every GPU through a round of starts and removals', () => {
    const memory = new MemoryModel(calibration);
    const throughput = new ThroughputModel(calibration);
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const job = (id: string) => running(id, { remainingTokens: Math.round(1e6 + random() * 1e8), microBatchTokens: 2048 });
    const gpus = Array.from({ length: 12 }, (_, i) => new LedgerGpu(i, gpu(`n/g${i}`, { jobs: [job(`r${i}`)] }), memory, throughput, 0));
    const members = new Set(gpus.map((g) => g.index));
    const sut = new JoinableBound(gpus, [...members]);
    const probes = [0, 1e3, 5e3, 2e4, 4e4, 6e4];

    for (let round = 0; round < 60; round++) {
      const g = gpus[Math.floor(random() * gpus.length)];
      if (random() < 0.6 || g.jobs.length === 0) {
        const added = job(`a${round}`);
        g.add(toLedgerJob(added, 0), memory.jobIncrementBytes(g.state.gpuType, added));
      } else {
        g.remove(g.jobs[0].id);
      }
      const member = g.jobs.length > 0;
      if (member) members.add(g.index);
      else members.delete(g.index);
      sut.update(g, member);

      for (const steps of probes) expect(sut.largestFree(steps), `round ${round}, ${steps} steps`).toBe(bruteForce(gpus, members, steps));
    }
  });
});
