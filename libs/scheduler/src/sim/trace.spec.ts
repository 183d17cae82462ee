import { describe, expect, it } from 'vitest';
import { parseTrace } from './trace';

const cluster = JSON.stringify({ type: 'cluster', nodes: [{ id: 'n1', gpuType: 'h100-80gb', gpus: 2 }] });
const job = (overrides: object = {}) =>
  JSON.stringify({
    type: 'job',
    id: 'j1',
    arrivalSeconds: 0,
    baseModel: 'llama-3.2-1b',
    datasetTokens: 1000,
    epochs: 1,
    microBatchTokens: 2048,
    seqLen: 1024,
    loraRank: 8,
    priority: 0,
    ...overrides,
  });

describe(parseTrace.name, () => {
  it('reads a cluster, jobs and cordon events', () => {
    const trace = parseTrace([cluster, job(), JSON.stringify({ type: 'cordon', atSeconds: 5, node: 'n1' })].join('\n'));

    expect(trace.nodes).toEqual([{ id: 'n1', gpuType: 'h100-80gb', gpus: 2, labels: {}, cordoned: false }]);
    expect(trace.jobs.map((j) => j.id)).toEqual(['j1']);
    expect(trace.cordonEvents).toEqual([{ type: 'cordon', atSeconds: 5, node: 'n1' }]);
  });

  it('names the line and field of bad input', () => {
    expect(() => parseTrace([cluster, job({ epochs: -1 })].join('\n'))).toThrow(/trace line 2: epochs/);
    expect(() => parseTrace([cluster, '{oops'].join('\n'))).toThrow(/trace line 2: not valid JSON/);
  });

  it('rejects duplicate job ids, a missing cluster line and unknown nodes', () => {
    expect(() => parseTrace([cluster, job(), job()].join('\n'))).toThrow(/duplicate job id "j1"/);
    expect(() => parseTrace(job())).toThrow(/no cluster line/);
    expect(() => parseTrace([cluster, JSON.stringify({ type: 'uncordon', atSeconds: 1, node: 'x' })].join('\n'))).toThrow(/unknown node "x"/);
  });
});
