import { FailureReason } from '@grove/proto';
import type { EngineFailureReason } from '../engine/engine-events';

const BY_ENGINE_REASON: Record<EngineFailureReason, FailureReason> = {
  data_error: FailureReason.FAILURE_REASON_DATA_ERROR,
  diverged: FailureReason.FAILURE_REASON_DIVERGED,
  oom: FailureReason.FAILURE_REASON_OOM,
  engine_error: FailureReason.FAILURE_REASON_ENGINE_CRASH,
};

/** The reason the agent reports for an engine `job_failed` (docs/agent-protocol.md). */
export function failureReasonFor(reason: EngineFailureReason): FailureReason {
  return BY_ENGINE_REASON[reason];
}
