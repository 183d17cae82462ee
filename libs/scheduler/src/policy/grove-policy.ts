import type { MemoryModel } from '../memory/memory-model';
import type { ThroughputModel } from '../throughput/throughput-model';
import type { ClusterState, QueuedJob } from './cluster-state';
import type { PreemptDecision, RoundDecisions, StartDecision, WaitReason } from './decisions';
import { EligibilityCache, type Eligibility } from './eligibility';
import { LedgerGpu, type LedgerJob } from './gpu-ledger';
import { findPreemptionPlan, type PreemptionPlan } from './preemption-plan';
import type { SchedulingPolicy, Telemetry } from './scheduling-policy';
import { estimateStarts } from './start-estimates';

export interface GrovePolicyConfig {
  /** No job should wait longer than this in one stretch (seconds). */
  readonly agingBoundSeconds: number;
  /** A job that has waited this fraction of the bound outranks every priority class. */
  readonly agingStartFraction: number;
  /** Churn limit: a run is never preempted before it has lasted this long. */
  readonly minRunSecondsBeforePreemption: number;
  /** Churn limit: a job is preempted at most this many times in its life. */
  readonly maxPreemptionsPerJob: number;
  /** Bounds the round's cost when many jobs could preempt. */
  readonly maxPreemptionSearchesPerRound: number;
  /** Same-class preemption only when the running job has this many times more predicted work left; 0 disables it. */
  readonly srptPreemptionRatio: number;
  /** What a preemption costs its victim beyond the wait: checkpoint, reload, adapter restart (seconds). */
  readonly preemptionOverheadSeconds: number;
}

export const defaultGroveConfig: GrovePolicyConfig = {
  agingBoundSeconds: 4 * 3600,
  agingStartFraction: 0.5,
  minRunSecondsBeforePreemption: 600,
  maxPreemptionsPerJob: 2,
  maxPreemptionSearchesPerRound: 32,
  srptPreemptionRatio: 4,
  preemptionOverheadSeconds: 60,
};

/** Effective class of a job that has waited long enough to age past every priority. */
const AGED = Number.MAX_SAFE_INTEGER;

/** Per-job facts computed once per round. */
interface Candidate {
  readonly job: QueuedJob;
  readonly eligibility: Eligibility;
  readonly effectiveClass: number;
  /** Predicted remaining seconds running alone on the fastest eligible GPU type (the SRPT key). */
  readonly soloSeconds: number;
  readonly increments: Map<string, number>;
}

/** Where a job could start this round without preempting anyone, and what it would cost. */
interface PlacementOptions {
  readonly idle?: LedgerGpu;
  readonly shared?: { readonly gpu: LedgerGpu; readonly cost: number };
  readonly exceeds?: WaitReason;
  readonly reservedBy?: string;
  readonly minNeeded: number;
  readonly largestFree: number;
}

/**
 * Grove's policy. Jobs are ranked by effective class (priority, or AGED once a job has waited agingStartFraction of
 * the bound), then by shortest predicted remaining time, then arrival. Each job in turn takes the cheapest of: an idle
 * GPU; co-location with same-base jobs; a preemption (checkpoint, no progress lost, churn-limited); or waiting — where
 * "cost" is the predicted increase of Σ completion times over the jobs affected (the job itself, the jobs it would
 * share a GPU with, preempted victims). A job of a higher class or an aged job never chooses to wait if it can start.
 */
export class GrovePolicy implements SchedulingPolicy {
  readonly name = 'grove';

  constructor(
    private readonly memory: MemoryModel,
    private readonly throughput: ThroughputModel,
    private readonly config: GrovePolicyConfig = defaultGroveConfig,
  ) {}

  observe(t: Telemetry): void {
    if (t.kind === 'peak') this.memory.observePeak(t.gpuType, t.jobs, t.bytes);
    else if (t.kind === 'oom') this.memory.observeOom(t.gpuType, t.jobs, t.gpuMemoryBytes);
    else this.throughput.observeStep(t.gpuType, t.baseModel, t.fusedTokens, t.jobCount, t.seconds);
  }

  decide(state: ClusterState): RoundDecisions {
    const now = state.now;
    const gpus = state.gpus.map((g, i) => new LedgerGpu(i, g, this.memory, this.throughput, now));
    const eligibility = new EligibilityCache(state.gpus);
    const candidates = state.queue.map((job) => this.candidate(job, now, eligibility, state));
    candidates.sort(compareCandidates);

    const starts: StartDecision[] = [];
    const preemptions: PreemptDecision[] = [];
    const blocked: { candidate: Candidate; reason: WaitReason }[] = [];
    const drainOrder = gpus.map((g) => g.drainAt()).sort((a, b) => a - b);
    let higherBlocked = 0;
    let lastClass = Number.NaN;
    let searches = this.config.maxPreemptionSearchesPerRound;

    for (const c of candidates) {
      if (c.effectiveClass !== lastClass) {
        higherBlocked = blocked.length;
        lastClass = c.effectiveClass;
      }
      const block = (reason: WaitReason) => blocked.push({ candidate: c, reason });
      if (c.eligibility.reason) {
        block(c.eligibility.reason);
        continue;
      }
      const job: LedgerJob = { ...c.job, startedAt: now };
      const options = this.placementOptions(c, job, gpus);
      if (options.idle) {
        this.start(options.idle, c, job, starts);
        continue;
      }
      if (options.exceeds) {
        block(options.exceeds);
        continue;
      }

      let plan: PreemptionPlan | null = null;
      const outranks = (victim: LedgerJob) => this.outranks(c, victim, gpus);
      if (searches > 0 && this.mayPreempt(c, gpus, outranks)) {
        searches--;
        plan = findPreemptionPlan(c, job, gpus, now, this.config, outranks);
      }
      const preemptCost = plan ? this.preemptionCost(plan, job, now) : Infinity;
      const sharedCost = options.shared?.cost ?? Infinity;
      const mustStart = c.effectiveClass === AGED || (plan?.victims.some((v) => v.priority < c.job.priority) ?? false);
      // Waiting for the (blocked-ahead)-th GPU to drain, then running alone.
      const drainAt = drainOrder[Math.min(blocked.length, drainOrder.length - 1)];
      const waitCost = mustStart ? Infinity : Math.max(0, drainAt - now) + c.soloSeconds;

      if (options.shared && sharedCost <= preemptCost && sharedCost <= waitCost) {
        this.start(options.shared.gpu, c, job, starts);
      } else if (plan && preemptCost <= waitCost) {
        for (const victim of plan.victims) {
          plan.gpu.remove(victim.id);
          preemptions.push({ jobId: victim.id, gpuId: plan.gpu.state.id, forJobId: c.job.id });
        }
        this.start(plan.gpu, c, job, starts);
      } else {
        if (c.effectiveClass === AGED) this.reserve(c, gpus);
        if (options.shared) block({ code: 'colocation_not_beneficial', gpuId: options.shared.gpu.state.id });
        else if (options.reservedBy) block({ code: 'reserved_for_aged_job', jobId: options.reservedBy });
        else if (higherBlocked > 0) block({ code: 'behind_higher_priority', count: higherBlocked });
        else block({ code: 'insufficient_memory', neededBytes: options.minNeeded, largestFreeBytes: options.largestFree });
      }
    }

    const waiting = estimateStarts(
      blocked.map((b) => ({
        jobId: b.candidate.job.id,
        reason: b.reason,
        gpus: b.reason.code === 'exceeds_gpu_memory' ? [] : b.candidate.eligibility.gpus,
        soloSeconds: b.candidate.soloSeconds,
      })),
      gpus.map((g) => g.drainAt()),
      now,
    );
    return { preemptions, starts, waiting };
  }

  private start(gpu: LedgerGpu, c: Candidate, job: LedgerJob, starts: StartDecision[]): void {
    gpu.add(job, c.increments.get(gpu.state.gpuType)!);
    starts.push({ jobId: c.job.id, gpuId: gpu.state.id });
  }

  private candidate(job: QueuedJob, now: number, eligibility: EligibilityCache, state: ClusterState): Candidate {
    const aged = now - job.waitingSince >= this.config.agingBoundSeconds * this.config.agingStartFraction;
    const effectiveClass = aged ? AGED : job.priority;
    const increments = new Map<string, number>();
    if (!this.memory.knowsModel(job.baseModel)) {
      const reason: WaitReason = { code: 'unknown_model', baseModel: job.baseModel };
      return { job, eligibility: { gpus: [], reason }, effectiveClass, soloSeconds: Infinity, increments };
    }
    const elig = eligibility.get(job.baseModel, job.selector);
    let soloSeconds = Infinity;
    for (const i of elig.gpus) {
      const type = state.gpus[i].gpuType;
      if (increments.has(type)) continue;
      increments.set(type, this.memory.jobIncrementBytes(type, job));
      const rate = this.throughput.soloTokensPerSecond(type, job.baseModel, job.microBatchTokens);
      soloSeconds = Math.min(soloSeconds, job.remainingTokens / rate);
    }
    return { job, eligibility: elig, effectiveClass, soloSeconds, increments };
  }

  /**
   * The best idle GPU (fastest solo finish) and the best co-location (least increase of Σ completion over the job and
   * the jobs already there) among eligible, unreserved GPUs where the predicted peak fits.
   */
  private placementOptions(c: Candidate, job: LedgerJob, gpus: readonly LedgerGpu[]): PlacementOptions {
    let idle: LedgerGpu | undefined;
    let idleCost = Infinity;
    let shared: { gpu: LedgerGpu; cost: number } | undefined;
    let minNeeded = Infinity;
    let largestFree = 0;
    let soloNeeded = Infinity;
    let largestCapacity = 0;
    let largestGpu = 0;
    let reservedBy: string | undefined;
    for (const i of c.eligibility.gpus) {
      const g = gpus[i];
      const increment = c.increments.get(g.state.gpuType)!;
      const solo = g.aloneBytes(job, increment);
      soloNeeded = Math.min(soloNeeded, solo);
      largestCapacity = Math.max(largestCapacity, g.capacityFor(job.baseModel));
      largestGpu = Math.max(largestGpu, g.state.memoryBytes);
      const need = g.neededBytes(job, increment);
      minNeeded = Math.min(minNeeded, need === Infinity ? solo : need);
      largestFree = Math.max(largestFree, g.freeBytes());
      if (!g.fits(job, increment)) continue;
      if (g.reservedBy !== null && g.reservedBy !== job.id) {
        reservedBy ??= g.reservedBy;
        continue;
      }
      if (g.jobs.length === 0) {
        const cost = job.remainingTokens / this.throughput.soloTokensPerSecond(g.state.gpuType, job.baseModel, job.microBatchTokens);
        if (cost < idleCost) [idle, idleCost] = [g, cost];
      } else {
        // Join only jobs with more steps left: co-location never slows a shorter job, so SRPT's order holds.
        if (g.jobs.some((r) => remainingSteps(r) < remainingSteps(job))) continue;
        const cost = g.completionSecondsWith(job) - g.completionSeconds();
        if (!shared || cost < shared.cost) shared = { gpu: g, cost };
      }
    }
    if (soloNeeded > largestCapacity) {
      const exceeds: WaitReason = { code: 'exceeds_gpu_memory', neededBytes: soloNeeded, largestGpuBytes: largestGpu };
      return { exceeds, minNeeded, largestFree };
    }
    return { idle, shared, reservedBy, minNeeded, largestFree };
  }

  /**
   * Predicted increase of Σ completion: the GPU's new set (rest + job) replaces the old one, and each victim resumes
   * after the job is done, paying the checkpoint/restart overhead.
   */
  private preemptionCost(plan: PreemptionPlan, job: LedgerJob, now: number): number {
    const g = plan.gpu;
    const rest = g.jobs.filter((j) => !plan.victims.includes(j));
    const withJob = [...rest, job];
    const jobFinish = g.finishTimesOf(withJob)[withJob.length - 1];
    const oldFinish = g.finishTimesOf(g.jobs);
    let victimsCost = 0;
    g.jobs.forEach((j, i) => {
      if (plan.victims.includes(j)) victimsCost += oldFinish[i] - now + (jobFinish - now) + this.config.preemptionOverheadSeconds;
    });
    return g.completionSecondsOf(withJob) + victimsCost - g.completionSeconds();
  }

  private mayPreempt(c: Candidate, gpus: readonly LedgerGpu[], outranks: (victim: LedgerJob) => boolean): boolean {
    for (const i of c.eligibility.gpus) for (const j of gpus[i].jobs) if (outranks(j)) return true;
    return false;
  }

  /**
   * A higher class always outranks; inside a class a job outranks a running one whose predicted remaining time is
   * srptPreemptionRatio times its own (preemptive SRPT, kept coarse so near-equal jobs never swap).
   */
  private outranks(c: Candidate, victim: LedgerJob, gpus: readonly LedgerGpu[]): boolean {
    if (victim.priority < c.effectiveClass) return true;
    if (victim.priority > c.effectiveClass || !(this.config.srptPreemptionRatio > 0)) return false;
    const type = gpus[c.eligibility.gpus[0]].state.gpuType;
    const victimSeconds = victim.remainingTokens / this.throughput.soloTokensPerSecond(type, victim.baseModel, victim.microBatchTokens);
    return victimSeconds > this.config.srptPreemptionRatio * c.soloSeconds;
  }

  /** Holds back the eligible GPU predicted to drain first, so an aged job is not overtaken there again. */
  private reserve(c: Candidate, gpus: readonly LedgerGpu[]): void {
    let best: LedgerGpu | undefined;
    for (const i of c.eligibility.gpus) {
      const g = gpus[i];
      if (g.reservedBy !== null) continue;
      if (!best || g.drainAt() < best.drainAt()) best = g;
    }
    if (best) best.reservedBy = c.job.id;
  }
}

function remainingSteps(job: LedgerJob): number {
  return job.remainingTokens / job.microBatchTokens;
}

function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.effectiveClass !== b.effectiveClass) return a.effectiveClass > b.effectiveClass ? -1 : 1;
  if (a.effectiveClass === AGED && a.job.waitingSince !== b.job.waitingSince) return a.job.waitingSince - b.job.waitingSince;
  if (a.soloSeconds !== b.soloSeconds) return a.soloSeconds < b.soloSeconds ? -1 : 1;
  if (a.job.arrivalAt !== b.job.arrivalAt) return a.job.arrivalAt - b.job.arrivalAt;
  return a.job.id < b.job.id ? -1 : a.job.id > b.job.id ? 1 : 0;
}
