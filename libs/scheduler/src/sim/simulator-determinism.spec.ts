import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulate } from './simulator';
import { parseTrace } from './trace';
import { AspenPolicy } from '../policy/aspen-policy';
import { FifoPolicy } from '../policy/fifo-policy';
import { MemoryModel } from '../memory/memory-model';
import { ThroughputModel } from '../throughput/throughput-model';
import { calibration, groveWithModels } from '../testing/scenario';

// Whole-trace replays take seconds on a busy 2-core machine; the limit only guards against a hang.
const REPLAY_TIMEOUT_MS = 60_000;

const shipped = (name: string) => parseTrace(readFileSync(join(__dirname, '..', '..', 'traces', `${name}.jsonl`), 'utf8'));

describe(simulate.name, () => {
  it('gives identical results for the same trace, policy and calibration', () => {
    const trace = shipped('priority-mix');

    const first = simulate(trace, groveWithModels().sut, calibration);
    const second = simulate(trace, groveWithModels().sut, calibration);

    expect(second).toEqual(first);
    expect(first.unfinished).toEqual([]);
    expect(first.jobs).toHaveLength(trace.jobs.length);
  }, REPLAY_TIMEOUT_MS);

  it('replays every shipped trace to completion under all three policies without breaking placement rules', () => {
    for (const name of ['bursty', 'cotrain-heavy', 'mixed-sizes', 'priority-mix']) {
      const trace = shipped(name);
      const policies = [
        new FifoPolicy(2),
        new AspenPolicy(new MemoryModel(calibration), new ThroughputModel(calibration)),
        groveWithModels().sut,
      ];
      for (const policy of policies) {
        const result = simulate(trace, policy, calibration);
        expect(result.unfinished, `${name} under ${policy.name}`).toEqual([]);
        for (const j of result.jobs) expect(j.finishedAt).toBeGreaterThan(j.arrivalAt);
      }
    }
  }, REPLAY_TIMEOUT_MS);
});
