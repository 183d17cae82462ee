import type { Calibration } from '../calibration/calibration';
import { SchedulerError } from '../errors';
import { MemoryModel } from '../memory/memory-model';
import type { JobShape } from '../models/job-shape';
import { ThroughputModel } from '../throughput/throughput-model';

/**
 * The simulated hardware's ground truth: the calibration's priors distorted by `simulatedTruth`. Policies never see
 * this object; they learn it only through the telemetry the simulator reports.
 */
export class SimulatedTruthModels {
  private readonly analyticMemory: MemoryModel;
  private readonly priorThroughput: ThroughputModel;

  constructor(private readonly calibration: Calibration) {
    this.analyticMemory = new MemoryModel(calibration);
    this.priorThroughput = new ThroughputModel(calibration);
  }

  gpuMemoryBytes(gpuType: string): number {
    const spec = this.calibration.gpuTypes[gpuType];
    if (!spec || !Object.hasOwn(this.calibration.gpuTypes, gpuType)) {
      throw new SchedulerError('unknown_gpu_type', `no calibration for GPU type "${gpuType}"`);
    }
    return spec.memoryBytes;
  }

  peakBytes(jobs: readonly JobShape[]): number {
    if (jobs.length === 0) return 0;
    const t = this.calibration.simulatedTruth;
    let extra = t.memoryExtraBytes;
    for (const j of jobs) extra += t.memoryExtraBytesPerToken * j.microBatchTokens + t.memoryExtraBytesPerTokenSeqLen * j.microBatchTokens * j.seqLen;
    return this.analyticMemory.predictPeak('', jobs) + extra;
  }

  stepSeconds(gpuType: string, baseModel: string, fusedTokens: number, jobCount: number): number {
    return this.priorThroughput.stepSeconds(gpuType, baseModel, fusedTokens, jobCount) * this.calibration.simulatedTruth.stepTimeFactor;
  }

  get checkpointSeconds(): number {
    return this.calibration.simulatedTruth.checkpointSeconds;
  }

  get adapterStartSeconds(): number {
    return this.calibration.simulatedTruth.adapterStartSeconds;
  }

  get oomRecoverySeconds(): number {
    return this.calibration.simulatedTruth.oomRecoverySeconds;
  }

  modelLoadSeconds(baseModel: string): number {
    return this.analyticMemory.analyticBaseBytes(baseModel) / this.calibration.simulatedTruth.modelLoadBytesPerSecond;
  }
}
