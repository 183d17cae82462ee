/**
 * One decision round of Grove's policy with 10,000 queued jobs on 256 GPUs (32 nodes × 8 H100s, busy), repeated:
 * 20 warm-up rounds, then 100 measured.
 *   make bench-scheduler-latency   (node --max-semi-space-size=64, as the control plane runs: see the Makefile)
 * Prints p50/p99 per round; the last line is JSON. Target: p99 ≤ 50 ms.
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  GrovePolicy,
  MemoryModel,
  parseCalibration,
  percentile,
  ThroughputModel,
  type ClusterState,
  type GpuState,
  type QueuedJob,
  type RunningJob,
} from '../src';
import calibrationJson from '../src/calibration/default-calibration.json';

const NODES = 32;
const GPUS_PER_NODE = 8;
const QUEUED = 10_000;
/** The control plane is long-lived: rounds before V8 has tiered the hot code up are start-up cost, not steady state. */
const WARMUP_ROUNDS = 20;
const ROUNDS = 100;
const MODELS = ['llama-3.2-1b', 'llama-3.2-3b', 'llama-3.1-8b', 'qwen2.5-7b'];

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function buildState(): ClusterState {
  const r = seeded(7);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const now = 100_000;
  const gpus: GpuState[] = [];
  for (let n = 0; n < NODES; n++) {
    for (let k = 0; k < GPUS_PER_NODE; k++) {
      const baseModel = pick(MODELS);
      const small = baseModel.includes('3.2');
      const jobs: RunningJob[] = Array.from({ length: small ? 1 + Math.floor(r() * 3) : 1 }, (_, i) => ({
        id: `run-${n}-${k}-${i}`,
        baseModel,
        microBatchTokens: 2048,
        seqLen: 1024,
        loraRank: 16,
        priority: Math.floor(r() * 3),
        remainingTokens: 1e6 + r() * 1e8,
        arrivalAt: now - 5000,
        startedAt: now - 4000,
        preemptions: 0,
      }));
      gpus.push({
        id: `node${n}/gpu${k}`,
        nodeId: `node${n}`,
        gpuType: 'h100-80gb',
        memoryBytes: 85899345920,
        labels: { rack: `r${n % 4}`, gpu: 'h100' },
        cordoned: n === 0,
        models: null,
        jobs,
      });
    }
  }
  const queue: QueuedJob[] = Array.from({ length: QUEUED }, (_, i) => ({
    id: `q${i}`,
    baseModel: pick(MODELS),
    microBatchTokens: pick([1024, 2048, 4096]),
    seqLen: pick([512, 1024]),
    loraRank: pick([8, 16, 32]),
    priority: Math.floor(r() * 3),
    remainingTokens: 1e6 + r() * 2e8,
    arrivalAt: now - r() * 20_000,
    waitingSince: now - r() * 9_000,
    preemptions: 0,
    ...(r() < 0.1 ? { selector: { rack: `r${Math.floor(r() * 4)}` } } : {}),
  }));
  return { now, gpus, queue };
}

function main(): void {
  const calibration = parseCalibration(calibrationJson);
  const state = buildState();
  // Wall time on a shared machine depends on what else runs; the load average says how contended this run was.
  const loadAtStart = loadavg()[0];
  const policy = new GrovePolicy(new MemoryModel(calibration), new ThroughputModel(calibration));
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let last = policy.decide(state);
  for (let i = 0; i < WARMUP_ROUNDS + ROUNDS; i++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    last = policy.decide(state);
    const dt = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    if (i >= WARMUP_ROUNDS) cpuTimes.push((cpu.user + cpu.system) / 1000);
    if (i >= WARMUP_ROUNDS) times.push(dt);
  }
  const p50 = percentile(times, 50);
  const p99 = percentile(times, 99);
  console.log(`${QUEUED} queued jobs, ${NODES * GPUS_PER_NODE} GPUs, ${ROUNDS} rounds`);
  console.log(`last round: ${last.starts.length} starts, ${last.preemptions.length} preemptions, ${last.waiting.length} waiting with reasons`);
  const cpuP50 = percentile(cpuTimes, 50);
  const cpuP99 = percentile(cpuTimes, 99);
  console.log(`wall: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${Math.max(...times).toFixed(2)} ms`);
  console.log(`cpu (this process, all threads): p50 ${cpuP50.toFixed(2)} ms, p99 ${cpuP99.toFixed(2)} ms`);
  console.log(
    JSON.stringify({
      queued_jobs: QUEUED,
      gpus: NODES * GPUS_PER_NODE,
      rounds: ROUNDS,
      round_ms_p50: Math.round(p50 * 100) / 100,
      round_ms_p95: Math.round(percentile(times, 95) * 100) / 100,
      round_ms_p99: Math.round(p99 * 100) / 100,
      rounds_over_target: times.filter((t) => t > 50).length,
      round_cpu_ms_p50: Math.round(cpuP50 * 100) / 100,
      round_cpu_ms_p99: Math.round(cpuP99 * 100) / 100,
      target_ms: 50,
      cores: cpus().length,
      node_flags: process.execArgv.filter((a) => a.startsWith('--max-')).join(' '),
      load_average_1m: Math.round(loadAtStart * 100) / 100,
      meets_target: p99 <= 50,
    }),
  );
}

main();
