import { describe, expect, it } from 'vitest';
import type { Candidate } from './candidate';
import { LedgerGpu, toLedgerJob } from './gpu-ledger';
import { JoinRollout } from './join-rollout';
import { calibration, gpu, H100, queued, running } from '../testing/scenario';
import { MemoryModel } from '../memory/memory-model';
import { ThroughputModel } from '../throughput/throughput-model';

const now = 0;
const memory = new MemoryModel(calibration);
const throughput = new ThroughputModel(calibration);

/** One H100 running one 1B job; `joiner` and the queue are jobs of the same shape and size. */
const shape = { baseModel: 'llama-3.2-1b', microBatchTokens: 2048, remainingTokens: 2e7 };
const ledger = () => [new LedgerGpu(0, gpu('n1/g0', { jobs: [running('running', shape)] }), memory, throughput, now)];
const candidate = (id: string): Candidate => ({
  job: queued(id, shape),
  eligibility: { gpus: [0], gpuTypes: [H100] },
  effectiveClass: 1,
  soloSeconds: 0,
  sortKey: 0,
  increments: [0],
});
const joiner = candidate('joiner');
const joinerJob = toLedgerJob(joiner.job, now);

describe(JoinRollout.name, () => {
  it('keeps a lone joiner waiting when a pair of jobs finishes later in sum than the two one after the other', () => {
    // A fused pair step of 2 × 2,048 tokens takes ~1.6× a solo step: serially the jobs finish at p and 2p (3p), as a
    // pair both at ~1.6p (3.2p).
    const gpus = ledger();
    const rollout = new JoinRollout(gpus, throughput, now);

    const joins = rollout.joinLowersCompletion(gpus[0], joinerJob, { jobs: [joiner], joiner: 0, tail: 0, behindWeight: 1 });

    expect(joins).toBe(false);
  });

  it('co-trains it once jobs wait behind: the GPU time the pair saves brings all of them forward', () => {
    const gpus = ledger();
    const rollout = new JoinRollout(gpus, throughput, now);
    const behind = [candidate('b1'), candidate('b2'), candidate('b3')];

    const listed = rollout.joinLowersCompletion(gpus[0], joinerJob, { jobs: [joiner, ...behind], joiner: 0, tail: 0, behindWeight: 1 });
    const asTail = rollout.joinLowersCompletion(gpus[0], joinerJob, { jobs: [joiner], joiner: 0, tail: 3, behindWeight: 1 });

    expect(listed).toBe(true);
    expect(asTail).toBe(true);
  });

  it('ignores the jobs behind with a behind weight of 0, but not a job ranked ahead', () => {
    const gpus = ledger();
    const rollout = new JoinRollout(gpus, throughput, now);
    const ahead = candidate('ahead');

    const behindIgnored = rollout.joinLowersCompletion(gpus[0], joinerJob, { jobs: [joiner, candidate('b1')], joiner: 0, tail: 10, behindWeight: 0 });
    // Ahead waits either way; with the joiner paired it starts ~0.6p later, and the joiner finishes ~1.4p earlier.
    const withAhead = rollout.joinLowersCompletion(gpus[0], joinerJob, { jobs: [ahead, joiner], joiner: 1, tail: 0, behindWeight: 0 });

    expect(behindIgnored).toBe(false);
    expect(withAhead).toBe(true);
  });

  it('never counts a cordoned GPU as coming free for the queue', () => {
    const gpus = [
      new LedgerGpu(0, gpu('n1/g0', { jobs: [running('running', shape)] }), memory, throughput, now),
      new LedgerGpu(1, gpu('n2/g0', { cordoned: true }), memory, throughput, now),
    ];
    const rollout = new JoinRollout(gpus, throughput, now);
    const anywhere = (c: Candidate): Candidate => ({ ...c, eligibility: { gpus: [0, 1], gpuTypes: [H100] } });

    const joins = rollout.joinLowersCompletion(gpus[0], joinerJob, { jobs: [anywhere(joiner), anywhere(candidate('b1'))], joiner: 0, tail: 0, behindWeight: 1 });

    // As on one GPU: the idle but cordoned one takes nobody, so the job behind gains from the pair as in the case above.
    expect(joins).toBe(true);
  });
});
