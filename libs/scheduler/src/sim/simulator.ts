import type { Calibration } from '../calibration/calibration';
import { SchedulerError } from '../errors';
import type { ClusterState, GpuState, QueuedJob, RunningJob } from '../policy/cluster-state';
import { findEligibleGpus } from '../policy/eligibility';
import type { SchedulingPolicy } from '../policy/scheduling-policy';
import { MinHeap } from '../util/min-heap';
import { SimulatedTruthModels } from './simulated-cluster';
import type { Trace, TraceJob } from './trace';

export interface SimulationOptions {
  /** A decision round runs at every event and at least this often while jobs wait (aging needs the clock). */
  readonly roundIntervalSeconds?: number;
  /** A job that OOMs this many times means the policy is looping; the run stops with an error. */
  readonly maxOomsPerJob?: number;
}

export interface JobOutcome {
  readonly id: string;
  readonly priority: number;
  readonly arrivalAt: number;
  readonly firstStartAt: number;
  readonly finishedAt: number;
  /** Longest single stretch spent waiting (from arrival or a preemption to the next start). */
  readonly maxWaitSeconds: number;
  readonly preemptions: number;
  readonly ooms: number;
}

export interface SimulationResult {
  readonly policy: string;
  readonly jobs: readonly JobOutcome[];
  /** Jobs that never finished (no GPU could ever take them); empty in a sound run. */
  readonly unfinished: readonly string[];
  readonly makespanSeconds: number;
  /** Time-averaged fraction of the cluster's GPU memory holding real (simulated) peaks. */
  readonly memoryUtilisation: number;
  /** Time-averaged number of co-trained jobs on a GPU while it has any. */
  readonly meanJobsPerBusyGpu: number;
  readonly ooms: number;
  readonly preemptions: number;
  readonly rounds: number;
}

interface SimJob {
  readonly spec: TraceJob;
  remainingTokens: number;
  status: 'future' | 'queued' | 'running' | 'done';
  gpu: SimGpu | null;
  startedAt: number;
  waitingSince: number;
  firstStartAt: number;
  finishedAt: number;
  maxWait: number;
  preemptions: number;
  ooms: number;
}

interface SimNode {
  readonly id: string;
  cordoned: boolean;
}

interface SimGpu {
  readonly id: string;
  readonly node: SimNode;
  readonly gpuType: string;
  readonly memoryBytes: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly models: readonly string[] | null;
  jobs: SimJob[];
  loadedModel: string | null;
  pausedUntil: number;
  lastAdvance: number;
  version: number;
  trueBytes: number;
}

type SimEvent =
  | { time: number; seq: number; kind: 'arrival'; job: SimJob }
  | { time: number; seq: number; kind: 'gpu'; gpu: SimGpu; version: number }
  | { time: number; seq: number; kind: 'cordon'; node: SimNode; cordoned: boolean }
  | { time: number; seq: number; kind: 'tick' };

type WithoutSeq<T> = T extends unknown ? Omit<T, 'seq'> : never;

/** Tokens below this count as finished, absorbing floating-point residue from step arithmetic. */
const DONE_EPSILON_TOKENS = 1e-6;

/**
 * Discrete-event replay of a trace under one policy. Jobs progress in fused steps whose real duration and memory come
 * from the simulated truth; the policy sees predictions only, plus the telemetry (peaks, step times, OOMs) the engine
 * would report. Starting a job pauses its GPU for base-model loading (if needed) and adapter start; a preemption
 * pauses it for the checkpoint; an OOM drops the newest job back into the queue and pauses for recovery.
 * Deterministic: same trace, policy and calibration give the same result.
 */
export function simulate(
  trace: Trace,
  policy: SchedulingPolicy,
  calibration: Calibration,
  options: SimulationOptions = {},
): SimulationResult {
  return new Simulation(trace, policy, calibration, options).run();
}

class Simulation {
  private readonly truth: SimulatedTruthModels;
  private readonly jobs: SimJob[];
  private readonly gpus: SimGpu[] = [];
  private readonly events = new MinHeap<SimEvent>((a, b) => a.time < b.time || (a.time === b.time && a.seq < b.seq));
  private seq = 0;
  private queue: SimJob[] = [];
  private pendingExternal = 0;
  private tickAt = Infinity;
  private memoryIntegral = 0;
  private jobsIntegral = 0;
  private busyIntegral = 0;
  private ooms = 0;
  private preemptions = 0;
  private rounds = 0;
  private readonly interval: number;
  private readonly maxOoms: number;

  constructor(
    trace: Trace,
    private readonly policy: SchedulingPolicy,
    calibration: Calibration,
    options: SimulationOptions,
  ) {
    this.truth = new SimulatedTruthModels(calibration);
    this.interval = options.roundIntervalSeconds ?? 60;
    this.maxOoms = options.maxOomsPerJob ?? 50;
    const nodes = new Map<string, SimNode>();
    for (const n of trace.nodes) {
      const node: SimNode = { id: n.id, cordoned: n.cordoned };
      nodes.set(n.id, node);
      const memoryBytes = n.gpuMemoryBytes ?? this.truth.gpuMemoryBytes(n.gpuType);
      for (let k = 0; k < n.gpus; k++) {
        this.gpus.push({
          id: `${n.id}/gpu${k}`,
          node,
          gpuType: n.gpuType,
          memoryBytes,
          labels: n.labels,
          models: n.models ?? null,
          jobs: [],
          loadedModel: null,
          pausedUntil: 0,
          lastAdvance: 0,
          version: 0,
          trueBytes: 0,
        });
      }
    }
    this.jobs = trace.jobs.map((spec) => ({
      spec,
      remainingTokens: spec.datasetTokens * spec.epochs,
      status: 'future',
      gpu: null,
      startedAt: Number.NaN,
      waitingSince: spec.arrivalSeconds,
      firstStartAt: Number.NaN,
      finishedAt: Number.NaN,
      maxWait: 0,
      preemptions: 0,
      ooms: 0,
    }));
    for (const job of this.jobs) this.push({ time: job.spec.arrivalSeconds, kind: 'arrival', job });
    for (const e of trace.cordonEvents) {
      this.push({ time: e.atSeconds, kind: 'cordon', node: nodes.get(e.node)!, cordoned: e.type === 'cordon' });
    }
    this.pendingExternal = this.jobs.length + trace.cordonEvents.length;
  }

  private push(e: WithoutSeq<SimEvent>): void {
    this.events.push({ ...e, seq: this.seq++ });
  }

  run(): SimulationResult {
    let now = 0;
    for (let next = this.events.peek(); next; next = this.events.peek()) {
      now = next.time;
      for (let e = this.events.peek(); e && e.time === now; e = this.events.peek()) this.handle(this.events.pop() ?? e, now);
      const applied = this.round(now);
      const idle = this.gpus.every((g) => g.jobs.length === 0);
      // Nothing runs, nothing will arrive and the policy did nothing: the rest can never run.
      if (this.queue.length > 0 && idle && applied === 0 && this.pendingExternal === 0) break;
      if (this.queue.length > 0 && this.tickAt > now + this.interval) {
        this.tickAt = now + this.interval;
        this.push({ time: this.tickAt, kind: 'tick' });
      }
    }
    for (const g of this.gpus) this.advance(g, now);
    return this.result();
  }

  private handle(e: SimEvent, now: number): void {
    switch (e.kind) {
      case 'arrival':
        this.pendingExternal--;
        e.job.status = 'queued';
        e.job.waitingSince = now;
        this.queue.push(e.job);
        return;
      case 'cordon':
        this.pendingExternal--;
        e.node.cordoned = e.cordoned;
        return;
      case 'tick':
        if (this.tickAt === e.time) this.tickAt = Infinity;
        return;
      case 'gpu':
        if (e.version !== e.gpu.version) return;
        this.advance(e.gpu, now);
        this.completeFinished(e.gpu, now);
        this.afterChange(e.gpu, now);
        return;
    }
  }

  /** Moves a GPU's jobs forward to `now` at the true fused step rate. */
  private advance(g: SimGpu, now: number): void {
    const dt = now - g.lastAdvance;
    this.memoryIntegral += g.trueBytes * dt;
    if (g.jobs.length > 0) {
      this.jobsIntegral += g.jobs.length * dt;
      this.busyIntegral += dt;
    }
    const from = Math.max(g.lastAdvance, g.pausedUntil);
    g.lastAdvance = now;
    if (g.jobs.length === 0 || now <= from) return;
    const steps = (now - from) / this.trueStep(g);
    for (const j of g.jobs) j.remainingTokens = Math.max(0, j.remainingTokens - steps * j.spec.microBatchTokens);
  }

  private trueStep(g: SimGpu): number {
    const fused = g.jobs.reduce((s, j) => s + j.spec.microBatchTokens, 0);
    return this.truth.stepSeconds(g.gpuType, g.jobs[0].spec.baseModel, fused, g.jobs.length);
  }

  private completeFinished(g: SimGpu, now: number): void {
    g.jobs = g.jobs.filter((j) => {
      if (j.remainingTokens > DONE_EPSILON_TOKENS) return true;
      j.status = 'done';
      j.finishedAt = now;
      j.gpu = null;
      return false;
    });
  }

  /** Re-measures a GPU after its job set changed: true peak, telemetry, next completion event. */
  private afterChange(g: SimGpu, now: number): void {
    g.trueBytes = this.truth.peakBytes(g.jobs.map((j) => j.spec));
    g.version++;
    if (g.jobs.length === 0) return;
    const shapes = g.jobs.map((j) => j.spec);
    this.policy.observe({ kind: 'peak', gpuId: g.id, gpuType: g.gpuType, jobs: shapes, bytes: g.trueBytes });
    const fused = shapes.reduce((s, j) => s + j.microBatchTokens, 0);
    const step = this.trueStep(g);
    this.policy.observe({ kind: 'step', gpuType: g.gpuType, baseModel: shapes[0].baseModel, fusedTokens: fused, jobCount: shapes.length, seconds: step });
    const minSteps = Math.min(...g.jobs.map((j) => j.remainingTokens / j.spec.microBatchTokens));
    this.push({ time: Math.max(now, g.pausedUntil) + minSteps * step, kind: 'gpu', gpu: g, version: g.version });
  }

  /** One decision round; returns how many decisions (starts that held, preemptions) it carried out. */
  private round(now: number): number {
    // With nothing queued a round can still move a job to a faster GPU that has fallen idle.
    if (this.queue.length === 0 && !(this.gpus.some((g) => g.jobs.length === 0) && this.gpus.some((g) => g.jobs.length > 0))) return 0;
    this.rounds++;
    for (const g of this.gpus) this.advance(g, now);
    const decisions = this.policy.decide(this.snapshot(now));
    const changed = new Set<SimGpu>();
    const byId = new Map(this.jobs.map((j) => [j.spec.id, j]));
    const gpuById = new Map(this.gpus.map((g) => [g.id, g]));

    for (const p of decisions.preemptions) {
      const job = byId.get(p.jobId);
      const g = gpuById.get(p.gpuId);
      if (!job || !g || job.gpu !== g) throw new SchedulerError('invalid_input', `policy preempted ${p.jobId}, which is not running on ${p.gpuId}`);
      g.jobs = g.jobs.filter((j) => j !== job);
      job.status = 'queued';
      job.gpu = null;
      job.waitingSince = now;
      job.preemptions++;
      this.preemptions++;
      this.queue.push(job);
      g.pausedUntil = Math.max(g.pausedUntil, now) + this.truth.checkpointSeconds;
      changed.add(g);
    }

    const startedHere = new Map<SimGpu, SimJob[]>();
    for (const s of decisions.starts) {
      const job = byId.get(s.jobId);
      const g = gpuById.get(s.gpuId);
      if (!job || !g || job.status !== 'queued') throw new SchedulerError('invalid_input', `policy started ${s.jobId}, which is not queued`);
      this.checkPlacement(job, g);
      this.queue = this.queue.filter((j) => j !== job);
      if (g.loadedModel !== job.spec.baseModel) {
        g.pausedUntil = Math.max(g.pausedUntil, now) + this.truth.modelLoadSeconds(job.spec.baseModel);
        g.loadedModel = job.spec.baseModel;
      }
      g.pausedUntil = Math.max(g.pausedUntil, now) + this.truth.adapterStartSeconds;
      job.status = 'running';
      job.gpu = g;
      g.jobs.push(job);
      startedHere.set(g, [...(startedHere.get(g) ?? []), job]);
      changed.add(g);
    }

    let started = 0;
    for (const [g, fresh] of startedHere) started += this.settleStarts(g, fresh, now);
    for (const g of changed) this.afterChange(g, now);
    return started + decisions.preemptions.length;
  }

  /** Drops newly started jobs (newest first) while the true peak exceeds the GPU: an OOM requeues, never fails. */
  private settleStarts(g: SimGpu, fresh: SimJob[], now: number): number {
    while (fresh.length > 0 && this.truth.peakBytes(g.jobs.map((j) => j.spec)) > g.memoryBytes) {
      const victim = fresh.pop()!;
      this.policy.observe({ kind: 'oom', gpuId: g.id, droppedJobId: victim.spec.id, gpuType: g.gpuType, jobs: g.jobs.map((j) => j.spec), gpuMemoryBytes: g.memoryBytes });
      g.jobs = g.jobs.filter((j) => j !== victim);
      victim.status = 'queued';
      victim.gpu = null;
      victim.ooms++;
      this.ooms++;
      if (victim.ooms > this.maxOoms) throw new SchedulerError('invalid_input', `job ${victim.spec.id} hit ${victim.ooms} OOMs: policy ${this.policy.name} is looping`);
      this.queue.push(victim);
      g.pausedUntil = Math.max(g.pausedUntil, now) + this.truth.oomRecoverySeconds;
    }
    for (const job of fresh) {
      job.startedAt = now;
      job.maxWait = Math.max(job.maxWait, now - job.waitingSince);
      if (Number.isNaN(job.firstStartAt)) job.firstStartAt = now;
    }
    return fresh.length;
  }

  /** A policy that breaks a hard rule is a bug, not a scheduling choice: fail loudly. */
  private checkPlacement(job: SimJob, g: SimGpu): void {
    const base = job.spec.baseModel;
    if (g.jobs.length > 0 && g.jobs[0].spec.baseModel !== base) {
      throw new SchedulerError('invalid_input', `policy put ${job.spec.id} (${base}) on ${g.id}, which runs ${g.jobs[0].spec.baseModel}`);
    }
    const ok = findEligibleGpus([this.gpuState(g)], base, job.spec.selector).gpus.length === 1;
    if (!ok) throw new SchedulerError('invalid_input', `policy put ${job.spec.id} on ${g.id}, which is cordoned, unmatched or lacks ${base}`);
  }

  private gpuState(g: SimGpu): GpuState {
    return {
      id: g.id,
      nodeId: g.node.id,
      gpuType: g.gpuType,
      memoryBytes: g.memoryBytes,
      labels: g.labels,
      cordoned: g.node.cordoned,
      models: g.models,
      jobs: g.jobs.map(
        (j): RunningJob => ({
          ...shape(j.spec),
          id: j.spec.id,
          priority: j.spec.priority,
          remainingTokens: j.remainingTokens,
          arrivalAt: j.spec.arrivalSeconds,
          startedAt: j.startedAt,
          preemptions: j.preemptions,
          selector: j.spec.selector,
        }),
      ),
    };
  }

  private snapshot(now: number): ClusterState {
    const queue = this.queue.map(
      (j): QueuedJob => ({
        ...shape(j.spec),
        id: j.spec.id,
        priority: j.spec.priority,
        remainingTokens: j.remainingTokens,
        arrivalAt: j.spec.arrivalSeconds,
        waitingSince: j.waitingSince,
        preemptions: j.preemptions,
        selector: j.spec.selector,
      }),
    );
    return { now, gpus: this.gpus.map((g) => this.gpuState(g)), queue };
  }

  private result(): SimulationResult {
    const done = this.jobs.filter((j) => j.status === 'done');
    const firstArrival = Math.min(...this.jobs.map((j) => j.spec.arrivalSeconds));
    const lastFinish = Math.max(...done.map((j) => j.finishedAt));
    const makespan = done.length > 0 ? lastFinish - firstArrival : 0;
    const capacity = this.gpus.reduce((s, g) => s + g.memoryBytes, 0);
    return {
      policy: this.policy.name,
      jobs: done.map((j) => ({
        id: j.spec.id,
        priority: j.spec.priority,
        arrivalAt: j.spec.arrivalSeconds,
        firstStartAt: j.firstStartAt,
        finishedAt: j.finishedAt,
        maxWaitSeconds: j.maxWait,
        preemptions: j.preemptions,
        ooms: j.ooms,
      })),
      unfinished: this.jobs.filter((j) => j.status !== 'done').map((j) => j.spec.id),
      makespanSeconds: makespan,
      memoryUtilisation: makespan > 0 ? this.memoryIntegral / (capacity * makespan) : 0,
      meanJobsPerBusyGpu: this.busyIntegral > 0 ? this.jobsIntegral / this.busyIntegral : 0,
      ooms: this.ooms,
      preemptions: this.preemptions,
      rounds: this.rounds,
    };
  }
}

function shape(spec: TraceJob) {
  return { baseModel: spec.baseModel, microBatchTokens: spec.microBatchTokens, seqLen: spec.seqLen, loraRank: spec.loraRank };
}
