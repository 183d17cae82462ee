import type { MemoryModel } from '../memory/memory-model';
import type { ThroughputModel } from '../throughput/throughput-model';
import type { Telemetry } from './scheduling-policy';

/** Routes one engine measurement to the model it corrects (shared by the policies that predict). */
export function feedTelemetry(memory: MemoryModel, throughput: ThroughputModel, t: Telemetry): void {
  if (t.kind === 'peak') memory.observePeak(t.gpuType, t.jobs, t.bytes);
  else if (t.kind === 'oom') memory.observeOom(t.gpuType, t.jobs, t.gpuMemoryBytes);
  else throughput.observeStep(t.gpuType, t.baseModel, t.fusedTokens, t.jobCount, t.seconds);
}
