import { Inject, Injectable, Logger } from '@nestjs/common';
import { defaultGroveConfig, GrovePolicy, MemoryModel, ThroughputModel, type JobShape, type RoundDecisions } from '@grove/scheduler';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { NodeRecord, NodeTelemetry } from '../nodes/node-record';
import type { ActiveJob } from './active-job';
import { ClusterCalibration, dtypeBytesFor, gpuTypeOf } from './cluster-calibration';
import { buildClusterState, gpuId, isSchedulable, jobShape } from './cluster-snapshot';

/**
 * The live scheduling policy and the models it learns: GrovePolicy over a memory and a throughput model whose priors
 * come from the model configs and GPU datasheets and whose corrections are fitted from the agents' telemetry (peak
 * memory per GPU, tokens per second, OOMs). The fits live in this process; a restarted control plane starts again
 * from the priors and relearns within a few heartbeats.
 */
@Injectable()
export class ClusterScheduler {
  private readonly logger = new Logger(ClusterScheduler.name);
  private readonly calibration = new ClusterCalibration();
  private readonly memory = new MemoryModel(this.calibration.calibration);
  private readonly throughput = new ThroughputModel(this.calibration.calibration);
  private readonly policy: GrovePolicy;
  /** Shapes of the jobs the last round saw, for reading telemetry that names jobs by id. */
  private shapes = new Map<string, JobShape>();
  /** Per GPU, the job set and peak last fed to the memory fit (a peak is fed once, not every heartbeat). */
  private readonly fedPeaks = new Map<string, string>();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.policy = new GrovePolicy(this.memory, this.throughput, {
      ...defaultGroveConfig,
      agingBoundSeconds: config.scheduler.agingBoundSeconds,
      minRunSecondsBeforePreemption: config.scheduler.minRunSecondsBeforePreemption,
      maxPreemptionsPerJob: config.scheduler.maxPreemptionsPerJob,
    });
  }

  decide(now: Date, nodes: readonly NodeRecord[], all: readonly ActiveJob[]): RoundDecisions {
    const jobs = all.filter((j) => isSchedulable(j) || this.warnOnce(j));
    const online = nodes.filter((n) => n.state === 'online');
    const dtype = Math.max(2, ...online.map((n) => dtypeBytesFor(n.backend)));
    for (const job of jobs) this.calibration.ensureModel(job.modelName, job.summary, dtype);
    for (const node of online) {
      for (const gpu of node.gpus) this.calibration.ensureGpuType(gpuTypeOf(node.backend, gpu.name), node.backend, gpu.totalMemoryBytes);
    }
    this.shapes = new Map(jobs.map((j) => [j.id, jobShape(j)]));
    return this.policy.decide(buildClusterState(now, online, jobs));
  }

  /** Predicted peak bytes of a GPU of this node running these jobs (for messages and tests). */
  predictPeak(node: NodeRecord, gpuName: string, jobs: readonly JobShape[]): number {
    return this.memory.predictPeak(gpuTypeOf(node.backend, gpuName), jobs);
  }

  /** A heartbeat's measurements: each GPU's peak memory with the jobs it trains, and their fused throughput. */
  observeHeartbeat(node: NodeRecord, telemetry: NodeTelemetry): void {
    for (const gpu of node.gpus) {
      const gpuType = gpuTypeOf(node.backend, gpu.name);
      const running = telemetry.jobs.filter((j) => j.gpuIndex === gpu.index);
      const shapes = running.map((j) => this.shapes.get(j.jobId));
      if (running.length === 0 || shapes.some((s) => s === undefined)) continue;
      const jobs = shapes as JobShape[];
      if (!this.known(gpuType, jobs) || new Set(jobs.map((j) => j.baseModel)).size !== 1) continue;
      // A step's throughput only once every job has finished a step; a peak only once each ran a couple of steps.
      if (running.every((j) => j.tokensPerSecond > 0)) {
        const fusedTokens = jobs.reduce((s, j) => s + j.microBatchTokens, 0);
        const rate = running.reduce((s, j) => s + j.tokensPerSecond, 0);
        this.policy.observe({ kind: 'step', gpuType, baseModel: jobs[0]!.baseModel, fusedTokens, jobCount: jobs.length, seconds: fusedTokens / rate });
      }
      const peak = telemetry.gpus.find((g) => g.index === gpu.index)?.memoryPeakBytes ?? 0;
      const signature = `${running.map((j) => j.jobId).sort().join(',')}@${peak}`;
      if (peak > 0 && running.every((j) => j.step >= 2) && this.fedPeaks.get(gpuId(node.id, gpu.index)) !== signature) {
        this.fedPeaks.set(gpuId(node.id, gpu.index), signature);
        this.policy.observe({ kind: 'peak', gpuId: gpuId(node.id, gpu.index), gpuType, jobs, bytes: peak });
      }
    }
  }

  /** An out-of-memory failure: the GPU could not hold `jobIds` (the dropped job among them). */
  observeOom(node: NodeRecord, gpuIndex: number, droppedJobId: string, jobIds: readonly string[]): void {
    const gpu = node.gpus.find((g) => g.index === gpuIndex);
    const jobs = jobIds.map((id) => this.shapes.get(id)).filter((s): s is JobShape => s !== undefined);
    if (!gpu || jobs.length === 0) return;
    const gpuType = gpuTypeOf(node.backend, gpu.name);
    const model = this.shapes.get(droppedJobId)?.baseModel;
    const sameModel = jobs.filter((j) => j.baseModel === model);
    if (!this.known(gpuType, sameModel)) return;
    this.policy.observe({ kind: 'oom', gpuId: gpuId(node.id, gpuIndex), droppedJobId, gpuType, jobs: sameModel, gpuMemoryBytes: gpu.totalMemoryBytes });
  }

  private readonly warned = new Set<string>();

  /** A malformed job never stops the round for the others; it is named in the log once. */
  private warnOnce(job: ActiveJob): false {
    if (!this.warned.has(job.id)) {
      this.warned.add(job.id);
      this.logger.warn(`job ${job.id} lacks the hyperparameters or model shape scheduling needs; left out`);
    }
    return false;
  }

  private known(gpuType: string, jobs: readonly JobShape[]): boolean {
    const c = this.calibration.calibration;
    return jobs.length > 0 && Object.hasOwn(c.gpuTypes, gpuType) && jobs.every((j) => Object.hasOwn(c.models, j.baseModel));
  }
}
