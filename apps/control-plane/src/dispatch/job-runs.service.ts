import { Inject, Injectable, Logger } from '@nestjs/common';
import { FailureReason, type JobTelemetry, type ReportJobEventRequest } from '@grove/proto';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { JobRecord } from '../jobs/job-record';
import { JobsRepository } from '../jobs/jobs.repository';
import { DispatchRepository, type ReportOutcome } from './dispatch.repository';

const REASONS: Record<number, string> = {
  [FailureReason.FAILURE_REASON_OOM]: 'oom',
  [FailureReason.FAILURE_REASON_DIVERGED]: 'diverged',
  [FailureReason.FAILURE_REASON_DATA_ERROR]: 'data_error',
  [FailureReason.FAILURE_REASON_ENGINE_CRASH]: 'engine_crash',
  [FailureReason.FAILURE_REASON_CANCELLED]: 'cancelled',
};

export type ReportVerdict = { accepted: true } | { accepted: false; reason: string };

/**
 * What agents report about running jobs, applied to the job's current attempt only: a report from an older
 * attempt or another node changes nothing. Preemption requeues the job without counting a failure; out-of-memory
 * and engine crashes are retried up to the limit; data errors and divergence fail the job at once.
 */
@Injectable()
export class JobRunsService {
  private readonly logger = new Logger(JobRunsService.name);

  constructor(
    private readonly dispatch: DispatchRepository,
    private readonly jobs: JobsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async report(nodeId: string, req: ReportJobEventRequest): Promise<ReportVerdict> {
    const job = await this.jobs.findById(req.jobId);
    if (!job) return { accepted: false, reason: `unknown job ${req.jobId}` };
    if (job.nodeId !== nodeId || job.attempt !== req.attempt) {
      return { accepted: false, reason: `stale: job ${job.id} is at attempt ${job.attempt} on ${job.nodeId ?? 'no node'}` };
    }
    const event = req.event;
    if (!event) return { accepted: false, reason: 'report has no event' };
    let applied: boolean;
    switch (event.$case) {
      case 'checkpointSaved':
        applied = await this.dispatch.recordCheckpoint(job.id, req.attempt, nodeId, event.value.step, event.value.checkpointKey);
        break;
      case 'preempted':
        if (event.value.checkpointKey) await this.dispatch.recordCheckpoint(job.id, req.attempt, nodeId, event.value.step, event.value.checkpointKey);
        applied = await this.apply(job, nodeId, req.attempt, {
          status: 'queued', release: true,
          event: { level: 'info', type: 'job.preempted', message: `Preempted at step ${event.value.step}; requeued`, data: { step: event.value.step } },
        });
        break;
      default:
        applied = await this.apply(job, nodeId, req.attempt, this.outcome(job, event));
    }
    return applied ? { accepted: true } : { accepted: false, reason: `stale: job ${job.id} moved on` };
  }

  /** Heartbeat telemetry: the loss curve as `metrics` events, for current attempts on this node only. */
  async recordTelemetry(nodeId: string, jobs: JobTelemetry[]): Promise<void> {
    for (const t of jobs) {
      const steps = t.recentSteps.map((s) => ({
        step: s.step, loss: s.loss, lr: s.learningRate, tokens: s.tokens, tokens_per_s: s.tokensPerSecond, grad_norm: s.gradNorm,
      }));
      await this.dispatch.recordMetrics(t.jobId, t.attempt, nodeId, steps, t.trainedTokens);
    }
  }

  private outcome(job: JobRecord, event: Exclude<NonNullable<ReportJobEventRequest['event']>, { $case: 'checkpointSaved' | 'preempted' }>): ReportOutcome {
    switch (event.$case) {
      case 'started':
        return { status: 'running', release: false, event: { level: 'info', type: 'job.started', message: `Training started (attempt ${job.attempt})` } };
      case 'succeeded': {
        const v = event.value;
        return {
          status: 'succeeded', release: false, adapterKey: v.adapterKey, trainedTokens: v.trainedTokens,
          event: { level: 'info', type: 'job.succeeded', message: `Training finished; final loss ${v.finalLoss.toFixed(4)}`, data: { final_loss: v.finalLoss, trained_tokens: v.trainedTokens } },
        };
      }
      case 'failed': {
        const reason = REASONS[event.value.reason] ?? 'engine_crash';
        const error = { code: reason, message: event.value.message };
        // OOM and engine crashes are retried from the last checkpoint, a bounded number of times (the scheduler's
        // memory model corrects OOM placements); data errors and divergence would only fail again.
        const retryable = reason === 'oom' || reason === 'engine_crash';
        if (retryable && job.failures + 1 < this.config.dispatch.maxFailedAttempts) {
          const what = reason === 'oom' ? 'Out of memory on its GPU' : 'Engine crashed';
          return { status: 'queued', release: true, failures: 1, event: { level: 'warn', type: 'job.requeued', message: `${what} (try ${job.failures + 1} of ${this.config.dispatch.maxFailedAttempts}); retrying from the last checkpoint: ${event.value.message}`, data: error } };
        }
        this.logger.log(`job ${job.id} failed: ${reason}: ${event.value.message}`);
        return { status: 'failed', release: false, failures: 1, error, event: { level: 'error', type: 'job.failed', message: `Job failed (${reason}): ${event.value.message}`, data: error } };
      }
    }
  }

  private apply(job: JobRecord, nodeId: string, attempt: number, outcome: ReportOutcome): Promise<boolean> {
    return this.dispatch.applyReport(job.id, attempt, nodeId, outcome);
  }
}
