import type { JobShape } from '../models/job-shape';
import type { ClusterState } from './cluster-state';
import type { RoundDecisions } from './decisions';

/** Measurements the engine reports; policies feed them to their memory and throughput models. */
export type Telemetry =
  | {
      readonly kind: 'peak';
      readonly gpuId: string;
      readonly gpuType: string;
      readonly jobs: readonly JobShape[];
      readonly bytes: number;
    }
  /** The engine ran out of memory with `jobs` (the last one just joined); it dropped that job and went on. */
  | {
      readonly kind: 'oom';
      readonly gpuId: string;
      readonly droppedJobId: string;
      readonly gpuType: string;
      readonly jobs: readonly JobShape[];
      readonly gpuMemoryBytes: number;
    }
  | {
      readonly kind: 'step';
      readonly gpuType: string;
      readonly baseModel: string;
      readonly fusedTokens: number;
      readonly jobCount: number;
      readonly seconds: number;
    };

export interface SchedulingPolicy {
  readonly name: string;
  decide(state: ClusterState): RoundDecisions;
  observe(telemetry: Telemetry): void;
}
