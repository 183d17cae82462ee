import type { PreemptDecision } from '@grove/scheduler';
import type { ActiveJob } from './active-job';

/** What a preempted job's event says: who needed the room, or that it moves to a faster GPU. */
export function preemptionNotice(
  p: PreemptDecision,
  job: Pick<ActiveJob, 'priority'>,
  forJob: Pick<ActiveJob, 'priority'> | undefined,
): { message: string; data: Record<string, unknown> } {
  if (p.toGpuId !== undefined && p.forJobId === p.jobId) {
    return {
      message: `Moving to the faster idle GPU ${p.toGpuId}, where it is predicted to finish sooner`,
      data: { reason: 'moving_to_faster_gpu', to_gpu_id: p.toGpuId },
    };
  }
  const higher = forJob !== undefined && forJob.priority > job.priority ? ' (higher priority)' : '';
  return { message: `Preempted to make room for job ${p.forJobId}${higher}`, data: { reason: 'preempted', for_job_id: p.forJobId } };
}
