import { describe, expect, it } from 'vitest';
import type { NodeRecord } from '../nodes/node-record';
import type { ActiveJob } from './active-job';
import { buildClusterState, isSchedulable, jobShape, remainingTokens } from './cluster-snapshot';

const summary = { layers: 2, hiddenSize: 64 } as ActiveJob['summary'];
const hp = { n_epochs: 3, micro_batch_size: 4, max_seq_len: 512, lora: { r: 16 } } as ActiveJob['hyperparameters'];

function job(id: string, overrides: Partial<ActiveJob> = {}): ActiveJob {
  return {
    id, status: 'queued', attempt: 0, nodeId: null, gpuIndex: null, priority: 1, modelName: 'llama', summary, hyperparameters: hp,
    datasetTokens: 10_000, datasetMaxLen: 100, trainedTokens: 0, preemptions: 0, nodeSelector: {}, createdAt: new Date(1_000_000),
    queuedAt: new Date(2_000_000), updatedAt: new Date(3_000_000), waitReason: null, estimatedStartAt: null, ...overrides,
  };
}

function node(id: string, overrides: Partial<NodeRecord> = {}): NodeRecord {
  return {
    id, name: id, state: 'online', joinTokenId: 'j', backend: 'cuda', engineVersion: 'e', gpus: [{ index: 0, name: 'NVIDIA H200', totalMemoryBytes: 141e9 }],
    baseModels: ['llama'], labels: { pool: 'a' }, agentLabels: {}, operatorLabels: {}, cordoned: false, draining: false, telemetry: null,
    registeredAt: new Date(0), lastHeartbeatAt: new Date(0), ...overrides,
  };
}

describe(buildClusterState.name, () => {
  it('places jobs on their GPUs, queues the rest with their selector and wait start, on the Unix clock in seconds', () => {
    const running = job('r', { status: 'running', nodeId: 'n1', gpuIndex: 0, trainedTokens: 4000, preemptions: 1, nodeSelector: { pool: 'a' } });
    const waiting = job('w', { nodeSelector: { pool: 'a' } });

    const sut = buildClusterState(new Date(5_000_000), [node('n1')], [running, waiting]);

    expect(sut.now).toBe(5000);
    expect(sut.gpus).toEqual([expect.objectContaining({ id: 'n1/0', gpuType: 'NVIDIA H200', cordoned: false, models: ['llama'], labels: { pool: 'a' } })]);
    // A running job keeps its selector too: the policy may move it to a faster GPU, only where it matches.
    expect(sut.gpus[0]!.jobs).toEqual([expect.objectContaining({ id: 'r', remainingTokens: 26_000, startedAt: 3000, preemptions: 1, selector: { pool: 'a' } })]);
    expect(sut.queue).toEqual([expect.objectContaining({ id: 'w', arrivalAt: 1000, waitingSince: 2000, selector: { pool: 'a' } })]);
  });

  it('leaves out lost nodes, treats a draining node as cordoned and calls every CPU slot one GPU type', () => {
    const nodes = [node('lost', { state: 'lost' }), node('drain', { draining: true }), node('cpu', { backend: 'cpu', gpus: [{ index: 0, name: 'cpu-slot-0', totalMemoryBytes: 8e9 }] })];

    const sut = buildClusterState(new Date(0), nodes, []);

    expect(sut.gpus.map((g) => [g.id, g.cordoned, g.gpuType])).toEqual([['drain/0', true, 'NVIDIA H200'], ['cpu/0', false, 'cpu']]);
  });
});

describe(jobShape.name, () => {
  it('sizes micro-batches by the longest example, not max_seq_len', () => {
    expect(jobShape(job('a'))).toEqual({ baseModel: 'llama', seqLen: 100, microBatchTokens: 400, loraRank: 16 });
    expect(jobShape(job('b', { datasetMaxLen: 4096 })).seqLen).toBe(512);
  });
});

describe(remainingTokens.name, () => {
  it('counts every epoch less what was trained, and never less than one token', () => {
    expect(remainingTokens(job('a', { trainedTokens: 1000 }))).toBe(29_000);
    expect(remainingTokens(job('b', { trainedTokens: 99_999 }))).toBe(1);
  });
});

describe(isSchedulable.name, () => {
  it('refuses a row without the hyperparameters or model shape scheduling reads', () => {
    expect(isSchedulable(job('ok', { summary: { layers: 2, hiddenSize: 64 } as ActiveJob['summary'] }))).toBe(true);
    expect(isSchedulable(job('bare', { hyperparameters: {} as ActiveJob['hyperparameters'] }))).toBe(false);
    expect(isSchedulable(job('no-shape', { summary: {} as ActiveJob['summary'] }))).toBe(false);
  });
});
