import type { JobEvent } from '../api/job-event-stream';
import { formatPairs, formatRelative, formatTime, formatTimeAndRelative } from '../output/format';
import { renderFields, renderTable } from '../output/table';
import type { Job } from './job';

/** The short "why / when" of a job for a list row: its error, why it waits, or when it should start or end. */
export function jobNote(job: Job, now: number): string {
  if (job.status === 'failed') return job.error?.code ?? '';
  const parts: string[] = [];
  if (job.wait_reason) parts.push(`waiting: ${job.wait_reason.code}`);
  if (job.estimated_start_at && (job.status === 'queued' || job.status === 'validating')) parts.push(`starts ~${formatRelative(job.estimated_start_at, now)}`);
  if (job.estimated_finish_at && !['succeeded', 'failed', 'cancelled'].includes(job.status)) parts.push(`ends ~${formatRelative(job.estimated_finish_at, now)}`);
  return parts.join(', ');
}

export function jobTable(jobs: Job[], now: number): string {
  if (jobs.length === 0) return 'No jobs.';
  return renderTable(
    ['ID', 'STATUS', 'MODEL', 'SUFFIX', 'CREATED', 'NOTE'],
    jobs.map((j) => [j.id, j.status, j.model, j.suffix, formatTime(j.created_at), jobNote(j, now)]),
  );
}

export function jobDetails(job: Job, now: number): string {
  const hp = job.hyperparameters ?? {};
  const { lora, ...rest } = hp as { lora?: Record<string, unknown> };
  return renderFields([
    ['id', job.id],
    ['status', job.status],
    ['model', job.model],
    ['training file', job.training_file],
    ['validation file', job.validation_file],
    ['suffix', job.suffix],
    ['priority', job.priority],
    ['node selector', formatPairs(job.node_selector)],
    ['waiting', job.wait_reason ? `${job.wait_reason.code}: ${job.wait_reason.message}` : null],
    ['estimated start', job.status === 'queued' || job.status === 'validating' ? formatTimeAndRelative(job.estimated_start_at, now) : null],
    ['estimated finish', ['succeeded', 'failed', 'cancelled'].includes(job.status) ? null : formatTimeAndRelative(job.estimated_finish_at, now)],
    ['error', job.error ? `${job.error.code ?? 'unknown'}: ${job.error.message ?? ''}` : null],
    ['steps', job.total_steps],
    ['trained tokens', job.trained_tokens],
    ['node', job.node_id],
    ['attempt', job.attempt > 0 ? job.attempt : null],
    ['preemptions', job.preemptions ? job.preemptions : null],
    ['created', formatTime(job.created_at)],
    ['started', formatTime(job.started_at)],
    ['finished', formatTime(job.finished_at)],
    ['hyperparameters', formatPairs(rest)],
    ['lora', formatPairs(lora)],
    ['metadata', formatPairs(job.metadata)],
    ['adapter', job.result_files?.length ? `grove adapters download ${job.id}` : null],
  ]);
}

/** One event as a log line: `2025-01-02 15:04:05Z  job.queued  message`. */
export function eventLine(event: JobEvent): string {
  return `${formatTime(event.created_at)}  ${event.type.padEnd(18)}  ${event.message}`;
}

/**
 * What `--wait` prints while it follows a job: every state change, but a training job's per-step metrics at most
 * every `metricsEveryS` seconds, so a long job does not flood a CI log.
 */
export class WaitProgress {
  private lastMetricsAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly metricsEveryS = 10) {}

  line(event: JobEvent, now: number): string | undefined {
    if (event.type === 'metrics') {
      if (now - this.lastMetricsAt < this.metricsEveryS) return undefined;
      this.lastMetricsAt = now;
    }
    return eventLine(event);
  }
}
