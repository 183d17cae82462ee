/**
 * Writes the shipped traces (libs/scheduler/traces/*.jsonl) from fixed seeds, so they can be regenerated and
 * reviewed: `node -r @swc-node/register libs/scheduler/bench/generate-traces.ts`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom as rng } from '../src/util/seeded-random';

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const logUniform = (r: Rand, lo: number, hi: number) => Math.exp(Math.log(lo) + r() * (Math.log(hi) - Math.log(lo)));
const exponential = (r: Rand, mean: number) => -Math.log(1 - r()) * mean;

interface JobDraft {
  arrivalSeconds: number;
  baseModel: string;
  totalTokens: number;
  priority: number;
  selector?: Record<string, string>;
}

function job(r: Rand, id: string, d: JobDraft): object {
  const epochs = pick(r, [1, 2, 3]);
  const microBatchTokens = d.baseModel === 'llama-3.1-8b' || d.baseModel === 'qwen2.5-7b' ? pick(r, [1024, 2048, 4096]) : pick(r, [2048, 4096, 8192]);
  const seqLen = Math.min(microBatchTokens, pick(r, [512, 1024, 2048]));
  return {
    type: 'job',
    id,
    arrivalSeconds: Math.round(d.arrivalSeconds),
    baseModel: d.baseModel,
    datasetTokens: Math.max(10_000, Math.round(d.totalTokens / epochs)),
    epochs,
    microBatchTokens,
    seqLen,
    loraRank: pick(r, [8, 16, 32, 64]),
    priority: d.priority,
    ...(d.selector ? { selector: d.selector } : {}),
  };
}

const h100 = (id: string, gpus: number, labels: Record<string, string> = {}) => ({ id, gpuType: 'h100-80gb', gpus, labels: { gpu: 'h100', ...labels } });

function bursty(): object[] {
  const r = rng(11);
  const lines: object[] = [
    { type: 'meta', name: 'bursty', seed: 11, description: 'three bursts of mixed jobs on 8 H100s' },
    { type: 'cluster', nodes: [h100('node-a', 4), h100('node-b', 4)] },
  ];
  let n = 0;
  for (const burstAt of [0, 1.5 * 3600, 3 * 3600]) {
    for (let k = 0; k < 40; k++) {
      const baseModel = pick(r, ['llama-3.2-1b', 'llama-3.2-1b', 'llama-3.2-3b', 'llama-3.1-8b']);
      lines.push(
        job(r, `b${String(++n).padStart(3, '0')}`, {
          arrivalSeconds: burstAt + exponential(r, 60),
          baseModel,
          totalTokens: logUniform(r, 2e6, baseModel === 'llama-3.1-8b' ? 6e7 : 2e8),
          priority: 1,
        }),
      );
    }
  }
  return lines;
}

function mixedSizes(): object[] {
  const r = rng(23);
  const lines: object[] = [
    { type: 'meta', name: 'mixed-sizes', seed: 23, description: 'heavy-tailed sizes, Poisson arrivals, H100 + A100 nodes with selectors' },
    {
      type: 'cluster',
      nodes: [
        h100('h100-1', 4),
        h100('h100-2', 2),
        { id: 'a100-1', gpuType: 'a100-40gb', gpus: 4, labels: { gpu: 'a100' }, models: ['llama-3.2-1b', 'llama-3.2-3b'] },
      ],
    },
  ];
  let t = 0;
  for (let k = 1; k <= 120; k++) {
    t += exponential(r, 100);
    const baseModel = pick(r, ['llama-3.2-1b', 'llama-3.2-3b', 'llama-3.2-3b', 'llama-3.1-8b', 'qwen2.5-7b']);
    // Pareto(α=1.2) sizes: most jobs small, a few very large.
    const size = Math.min(6e8, 1.2e7 / Math.pow(1 - r(), 1 / 1.2));
    const big = baseModel === 'llama-3.1-8b' || baseModel === 'qwen2.5-7b';
    lines.push(
      job(r, `m${String(k).padStart(3, '0')}`, {
        arrivalSeconds: t,
        baseModel,
        totalTokens: big ? size / 4 : size,
        priority: 1,
        selector: big || r() < 0.2 ? { gpu: 'h100' } : undefined,
      }),
    );
  }
  return lines;
}

function priorityMix(): object[] {
  const r = rng(37);
  const lines: object[] = [
    { type: 'meta', name: 'priority-mix', seed: 37, description: 'three priority classes, a node cordoned for two hours' },
    { type: 'cluster', nodes: [h100('p-1', 4, { pool: 'shared' }), h100('p-2', 4, { pool: 'shared' })] },
    { type: 'cordon', atSeconds: 2 * 3600, node: 'p-2' },
    { type: 'uncordon', atSeconds: 4 * 3600, node: 'p-2' },
  ];
  let t = 0;
  for (let k = 1; k <= 110; k++) {
    t += exponential(r, 120);
    const u = r();
    const priority = u < 0.15 ? 2 : u < 0.65 ? 1 : 0;
    const baseModel = pick(r, ['llama-3.2-1b', 'llama-3.2-3b', 'llama-3.1-8b']);
    const total = priority === 0 ? logUniform(r, 2e7, 3e8) : logUniform(r, 1e6, 8e7);
    lines.push(
      job(r, `p${String(k).padStart(3, '0')}`, {
        arrivalSeconds: t,
        baseModel,
        totalTokens: baseModel === 'llama-3.1-8b' ? total / 3 : total,
        priority,
      }),
    );
  }
  return lines;
}

function coTrainHeavy(): object[] {
  const r = rng(53);
  const lines: object[] = [
    { type: 'meta', name: 'cotrain-heavy', seed: 53, description: 'many small same-base jobs on 4 H100s (co-location matters)' },
    { type: 'cluster', nodes: [h100('c-1', 4)] },
  ];
  let t = 0;
  for (let k = 1; k <= 100; k++) {
    t += exponential(r, 60);
    lines.push(
      job(r, `c${String(k).padStart(3, '0')}`, {
        arrivalSeconds: t,
        baseModel: pick(r, ['llama-3.2-1b', 'llama-3.2-3b']),
        totalTokens: logUniform(r, 1e6, 6e7),
        priority: r() < 0.2 ? 2 : 1,
      }),
    );
  }
  return lines;
}

const out = join(__dirname, '..', 'traces');
for (const [name, lines] of [
  ['bursty', bursty()],
  ['mixed-sizes', mixedSizes()],
  ['priority-mix', priorityMix()],
  ['cotrain-heavy', coTrainHeavy()],
] as const) {
  writeFileSync(join(out, `${name}.jsonl`), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  console.log(`wrote traces/${name}.jsonl (${lines.length} lines)`);
}
