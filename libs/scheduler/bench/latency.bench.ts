/**
 * One decision round of Grove's policy with 10,000 queued jobs on 256 GPUs (32 nodes × 8 H100s, busy), repeated:
 * 20 warm-up rounds, then 100 measured, for two queues: one where about a sixth of the jobs are aged (they rank first
 * and reserve GPUs) and one where none is (every job then weighs every placement itself, the slower case).
 *   make bench-scheduler-latency   (node --max-semi-space-size=64, as the control plane runs: see the Makefile)
 * Prints p50/p99 per round; the last line is JSON, its top-level figures from the slower queue. Target: p99 ≤ 50 ms.
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  GrovePolicy,
  MemoryModel,
  parseCalibration,
  percentile,
  seededRandom,
  ThroughputModel,
  type Calibration,
  type ClusterState,
  type GpuState,
  type QueuedJob,
  type RunningJob,
} from '../src';
import calibrationJson from '../src/calibration/default-calibration.json';

const NODES = 32;
const GPUS_PER_NODE = 8;
const QUEUED = 10_000;
/**
 * The control plane is long-lived: rounds before V8 has tiered the hot code up are start-up cost, not steady state.
 * With aged jobs in the queue V8 still re-optimises the round around rounds 19-26 (one or two rounds of 50-100 ms).
 */
const WARMUP_ROUNDS = 30;
const ROUNDS = 100;
const MODELS = ['llama-3.2-1b', 'llama-3.2-3b', 'llama-3.1-8b', 'qwen2.5-7b'];

/** Longest wait in each queue: past ~12,400 s a job is aged under the default 4 h bound; below 6,480 s none can be. */
const SCENARIOS = [
  { name: 'some_aged', maxWaitSeconds: 15_000 },
  { name: 'none_aged', maxWaitSeconds: 6_000 },
] as const;

function buildState(maxWaitSeconds: number): ClusterState {
  const r = seededRandom(7);
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
    waitingSince: now - r() * maxWaitSeconds,
    preemptions: 0,
    ...(r() < 0.1 ? { selector: { rack: `r${Math.floor(r() * 4)}` } } : {}),
  }));
  return { now, gpus, queue };
}

interface ScenarioResult {
  readonly name: string;
  readonly aged: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly overTarget: number;
  readonly cpuP50: number;
  readonly cpuP99: number;
}

const ms = (x: number) => Math.round(x * 100) / 100;

function measure(name: string, maxWaitSeconds: number, calibration: Calibration): ScenarioResult {
  const state = buildState(maxWaitSeconds);
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
  const aged = policy.agedJobIds(state).length;
  const r: ScenarioResult = {
    name,
    aged,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    p99: percentile(times, 99),
    overTarget: times.filter((t) => t > 50).length,
    cpuP50: percentile(cpuTimes, 50),
    cpuP99: percentile(cpuTimes, 99),
  };
  console.log(`${name}: ${QUEUED} queued jobs (${aged} aged), ${NODES * GPUS_PER_NODE} GPUs, ${ROUNDS} rounds`);
  console.log(`  last round: ${last.starts.length} starts, ${last.preemptions.length} preemptions, ${last.waiting.length} waiting with reasons`);
  console.log(`  wall: p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, max ${Math.max(...times).toFixed(2)} ms`);
  console.log(`  cpu (this process, all threads): p50 ${r.cpuP50.toFixed(2)} ms, p99 ${r.cpuP99.toFixed(2)} ms`);
  return r;
}

function main(): void {
  const calibration = parseCalibration(calibrationJson);
  // Wall time on a shared machine depends on what else runs; the load average says how contended this run was.
  const loadAtStart = loadavg()[0];
  const results = SCENARIOS.map((s) => measure(s.name, s.maxWaitSeconds, calibration));
  const worst = results.reduce((a, b) => (b.p99 > a.p99 ? b : a));
  console.log(
    JSON.stringify({
      queued_jobs: QUEUED,
      gpus: NODES * GPUS_PER_NODE,
      rounds: ROUNDS,
      worst_scenario: worst.name,
      round_ms_p50: ms(worst.p50),
      round_ms_p95: ms(worst.p95),
      round_ms_p99: ms(worst.p99),
      rounds_over_target: worst.overTarget,
      round_cpu_ms_p50: ms(worst.cpuP50),
      round_cpu_ms_p99: ms(worst.cpuP99),
      scenarios: Object.fromEntries(results.map((r) => [r.name, { aged_jobs: r.aged, round_ms_p50: ms(r.p50), round_ms_p99: ms(r.p99), rounds_over_target: r.overTarget }])),
      target_ms: 50,
      cores: cpus().length,
      node_flags: process.execArgv.filter((a) => a.startsWith('--max-')).join(' '),
      load_average_1m: ms(loadAtStart),
      meets_target: results.every((r) => r.p99 <= 50),
    }),
  );
}

main();
