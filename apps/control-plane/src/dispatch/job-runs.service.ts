import { Inject, Injectable, Logger } from '@nestjs/common';
import { FailureReason, type JobTelemetry, type ReportJobEventRequest } from '@grove/proto';
import { defaultDivergenceRule } from '@grove/scheduler';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { JobRecord } from '../jobs/job-record';
import { JobsRepository } from '../jobs/jobs.repository';
import { NodesService } from '../nodes/nodes.service';
import { ClusterScheduler } from '../scheduling/cluster-scheduler';
import { DispatchRepository, type ReportOutcome } from './dispatch.repository';
import { DivergenceWatch } from './divergence-watch';
import { succeededData, succeededMessage } from './job-succeeded';
import { GpuQueues } from './gpu-queues';

const REASONS: Record<number, string> = {
  [FailureReason.FAILURE_REASON_OOM]: 'oom',
  [FailureReason.FAILURE_REASON_DIVERGED]: 'diverged',
  [FailureReason.FAILURE_REASON_DATA_ERROR]: 'data_error',
  [FailureReason.FAILURE_REASON_ENGINE_CRASH]: 'engine_crash',
  [FailureReason.FAILURE_REASON_CANCELLED]: 'cancelled',
};

const DIVERGENCE_FACTOR = defaultDivergenceRule.factor;
const DIVERGENCE_PATIENCE = defaultDivergenceRule.patience;

export type ReportVerdict = { accepted: true } | { accepted: false; reason: string };

/**
 * What agents report about running jobs, applied to the job's current attempt only: a report from an older
 * attempt or another node changes nothing. Preemption and out-of-memory requeue the job without counting a failure;
 * engine crashes are retried up to the limit; data errors and divergence fail the job at once.
 */
@Injectable()
export class JobRunsService {
  private readonly logger = new Logger(JobRunsService.name);

  constructor(
    private readonly dispatch: DispatchRepository,
    private readonly jobs: JobsRepository,
    private readonly nodes: NodesService,
    private readonly scheduler: ClusterScheduler,
    private readonly queues: GpuQueues,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private readonly divergence = new DivergenceWatch();

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
          status: 'queued', release: true, preemptions: 1,
          event: { level: 'info', type: 'job.preempted', message: `Preempted at step ${event.value.step}; requeued`, data: { step: event.value.step } },
        });
        break;
      default:
        if (event.$case === 'failed' && event.value.reason === FailureReason.FAILURE_REASON_OOM) await this.observeOom(job, nodeId);
        applied = await this.apply(job, nodeId, req.attempt, this.outcome(job, event));
    }
    return applied ? { accepted: true } : { accepted: false, reason: `stale: job ${job.id} moved on` };
  }

  /**
   * Heartbeat telemetry: the loss curve as `metrics` events (current attempts on this node only), and the
   * divergence rule over it: a job whose loss blows up fails early with reason `diverged` and its agent drops it.
   */
  async recordTelemetry(nodeId: string, jobs: JobTelemetry[]): Promise<void> {
    for (const t of jobs) {
      const steps = t.recentSteps.map((s) => ({
        step: s.step, loss: s.loss, lr: s.learningRate, tokens: s.tokens, tokens_per_s: s.tokensPerSecond, grad_norm: s.gradNorm,
        ...(s.validationLoss === undefined ? {} : { val_loss: s.validationLoss }),
      }));
      const current = await this.dispatch.recordMetrics(t.jobId, t.attempt, nodeId, steps, t.trainedTokens);
      if (!current) continue;
      const verdict = this.divergence.observe(t.jobId, t.attempt, t.recentSteps);
      if (verdict.diverged) await this.failDiverged(t, nodeId, verdict.step, verdict.cause);
    }
  }

  private async failDiverged(t: JobTelemetry, nodeId: string, step: number, cause: string): Promise<void> {
    const message = cause === 'non_finite_loss'
      ? `Loss became NaN/Inf at step ${step}`
      : `Loss diverged at step ${step}: its moving average stayed above ${DIVERGENCE_FACTOR}x its best for ${DIVERGENCE_PATIENCE} steps`;
    const error = { code: 'diverged', message, details: { step, cause } };
    const applied = await this.dispatch.applyReport(t.jobId, t.attempt, nodeId, {
      status: 'failed', release: false, failures: 1, error,
      event: { level: 'error', type: 'job.failed', message: `Job failed (diverged): ${message}`, data: error },
    });
    if (!applied) return;
    this.logger.log(`job ${t.jobId} diverged at step ${step} (${cause})`);
    await this.queues.send(nodeId, t.gpuIndex, { kind: 'cancel', jobId: t.jobId, attempt: t.attempt })
      .catch((e) => this.logger.warn(`cancel of diverged ${t.jobId} not sent: ${(e as Error).message}`));
  }

  /** Teaches the memory model: this GPU could not hold the jobs placed on it. */
  private async observeOom(job: JobRecord, nodeId: string): Promise<void> {
    if (job.gpuIndex === null) return;
    const node = await this.nodes.get(nodeId).catch(() => null);
    if (!node) return;
    const onGpu = (await this.dispatch.placed()).filter((j) => j.nodeId === nodeId && j.gpuIndex === job.gpuIndex).map((j) => j.id);
    this.scheduler.observeOom(node, job.gpuIndex, job.id, onGpu.includes(job.id) ? onGpu : [...onGpu, job.id]);
  }

  private outcome(job: JobRecord, event: Exclude<NonNullable<ReportJobEventRequest['event']>, { $case: 'checkpointSaved' | 'preempted' }>): ReportOutcome {
    switch (event.$case) {
      case 'started':
        return { status: 'running', release: false, event: { level: 'info', type: 'job.started', message: `Training started (attempt ${job.attempt})` } };
      case 'succeeded': {
        const v = event.value;
        return {
          status: 'succeeded', release: false, adapterKey: v.adapterKey, trainedTokens: v.trainedTokens,
          event: { level: 'info', type: 'job.succeeded', message: succeededMessage(v), data: succeededData(v) },
        };
      }
      case 'failed': {
        const reason = REASONS[event.value.reason] ?? 'engine_crash';
        const error = { code: reason, message: event.value.message };
        // An OOM is the scheduler's misjudgement, not the job's: it requeues without counting, and the memory model
        // (fed the OOM above) refuses that placement from now on. Engine crashes retry a bounded number of times;
        // data errors and divergence would only fail again.
        if (reason === 'oom') {
          return { status: 'queued', release: true, event: { level: 'warn', type: 'job.requeued', message: `Out of memory on its GPU; the scheduler corrected its memory model and will place the job where it fits, resuming from the last checkpoint: ${event.value.message}`, data: error } };
        }
        if (reason === 'engine_crash' && job.failures + 1 < this.config.dispatch.maxFailedAttempts) {
          return { status: 'queued', release: true, failures: 1, event: { level: 'warn', type: 'job.requeued', message: `Engine crashed (try ${job.failures + 1} of ${this.config.dispatch.maxFailedAttempts}); retrying from the last checkpoint: ${event.value.message}`, data: error } };
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
