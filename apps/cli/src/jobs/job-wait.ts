import { isTerminal } from '@grove/contracts';
import type { ApiClient } from '../api/api-client';
import { followJobEvents, type JobEvent } from '../api/job-event-stream';
import { JobOutcomeError } from '../cli-errors';
import type { Job } from './job';

/**
 * Follows the job's event stream until the job has finished and returns the finished job. The stream ends when the
 * job does; if it ends early anyway, following resumes after the last event seen.
 */
export async function waitForJobEnd(
  client: ApiClient,
  jobId: string,
  onEvent: (event: JobEvent) => void,
  sleep: (ms: number) => Promise<void>,
): Promise<Job> {
  let after: string | undefined;
  for (;;) {
    await followJobEvents(client, jobId, {
      after,
      sleep,
      onEvent: (event) => {
        after = event.id;
        onEvent(event);
      },
    });
    const job = await client.get<Job>(`/v1/jobs/${encodeURIComponent(jobId)}`);
    if (isTerminal(job.status)) return job;
    await sleep(1_000);
  }
}

/** `--wait`'s verdict: nothing for a succeeded job, else the error that carries exit code 1 (failed) or 4 (cancelled). */
export function assertSucceeded(job: Job): void {
  if (job.status === 'failed' || job.status === 'cancelled') throw new JobOutcomeError(job.id, job.status, job.error);
}
