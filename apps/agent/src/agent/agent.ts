import { cp, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import { Backend, FailureReason, type HeartbeatRequest, type ReportJobEventRequest } from '@grove/proto';
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/agent-config';
import type { AgentRpc } from '../control-plane/agent-rpc.client';
import type { ArtifactsApi } from '../control-plane/artifacts.client';
import type { DispatchMessage } from '../dispatch/dispatch-message';
import type { DispatchConsumer } from '../dispatch/gpu-queues.consumer';
import { EngineJobFailedError } from '../engine/engine-errors';
import type { JobFinishedEvent } from '../engine/engine-events';
import type { EngineExit, EngineProcess } from '../engine/engine-process';
import type { EnginePool } from '../engine/engine-pool';
import { buildEngineJob } from '../jobs/engine-job.builder';
import { failureReasonFor } from '../jobs/failure-reason';
import { addMetricsToCheckpoint, restoreMetricsFromCheckpoint } from '../jobs/checkpoint-metrics';
import { jobPaths, modelFolderName } from '../jobs/job-paths';
import type { NodeInventory } from '../node/node-inventory';
import { gpuTelemetry, JobProgress } from '../telemetry/job-telemetry';
import { JobReporter } from './job-reporter';
import { RunningJob } from './running-job';

type JobEvent = NonNullable<ReportJobEventRequest['event']>;

const BOOT_REGISTER_MS = 60_000;

export interface AgentDeps {
  config: AgentConfig;
  rpc: AgentRpc;
  artifacts: ArtifactsApi;
  dispatch: DispatchConsumer;
  engines: EnginePool;
  inventory: NodeInventory;
  log: Logger;
}

/**
 * The worker agent (docs/agent-protocol.md): registers the node, consumes its GPU queues, drives one engine per
 * (GPU, base model), moves artifacts, and reports every job's lifecycle and telemetry to the control plane.
 */
export class Agent {
  private nodeIdValue = '';
  private heartbeatMs = 5_000;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatRunning: Promise<void> = Promise.resolve();
  private readonly jobs = new Map<string, RunningJob>();
  private readonly reporter: JobReporter;
  private stopping = false;
  private heartbeatStopped = false;

  constructor(private readonly deps: AgentDeps) {
    this.reporter = new JobReporter(deps.rpc, deps.log);
    deps.engines.onStarted((engine) => this.watch(engine));
  }

  get nodeId(): string {
    return this.nodeIdValue;
  }

  /** Jobs this agent is running now (job id → attempt). */
  runningJobs(): Map<string, number> {
    return new Map([...this.jobs.values()].map((j) => [j.jobId, j.attempt]));
  }

  async start(): Promise<void> {
    await this.registerAtBoot();
    await this.consume();
    this.scheduleHeartbeat();
  }

  /** SIGTERM: stop taking work, checkpoint + upload + report every job as preempted, shut the engines down. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.deps.dispatch.close();
    // Heartbeats go on while jobs are checkpointed, so the node is not declared lost meanwhile.
    const jobs = [...this.jobs.values()];
    await Promise.all(jobs.map((job) => job.exclusive(() => this.preempt(job)).catch((e) => this.jobError(job, 'preempt on shutdown failed', e))));
    this.heartbeatStopped = true;
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    await this.heartbeatRunning;
    await this.deps.engines.shutdownAll();
    this.deps.rpc.close();
  }

  /** One dispatch message; resolves once acted on (a `start`: the engine accepted the job). */
  async handle(gpuIndex: number, message: DispatchMessage): Promise<void> {
    const { kind, jobId, attempt } = message;
    const job = this.jobs.get(jobId);
    this.deps.log.info({ kind, jobId, attempt, gpuIndex }, 'dispatch message');
    if (kind === 'start') return this.start_(gpuIndex, jobId, attempt);
    if (!job || job.attempt !== attempt) {
      this.deps.log.info({ kind, jobId, attempt }, 'no such attempt running here; nothing to do');
      return;
    }
    if (kind === 'cancel') return job.exclusive(() => this.cancel(job));
    return job.exclusive(() => this.preempt(job));
  }

  /** The control plane may come up after the agent (a restarted rack): keep trying for a while. */
  private async registerAtBoot(): Promise<void> {
    const until = Date.now() + BOOT_REGISTER_MS;
    for (let wait = 250; ; wait = Math.min(wait * 2, 5_000)) {
      try {
        return await this.register();
      } catch (e) {
        if ((e as ServiceError).code !== status.UNAVAILABLE || Date.now() + wait > until) throw e;
        this.deps.log.warn({ err: (e as Error).message, retryInMs: wait }, 'control plane unreachable; retrying registration');
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  private async register(): Promise<void> {
    const { config, inventory, rpc } = this.deps;
    const res = await rpc.register({
      nodeName: config.nodeName,
      gpus: inventory.gpus,
      engineVersion: inventory.engineVersion,
      backend: config.backend === 'cuda' ? Backend.BACKEND_CUDA : Backend.BACKEND_CPU,
      baseModels: inventory.baseModels,
      labels: config.labels,
    });
    const changed = this.nodeIdValue !== '' && this.nodeIdValue !== res.nodeId;
    this.nodeIdValue = res.nodeId;
    this.heartbeatMs = res.heartbeatIntervalMs || this.heartbeatMs;
    this.deps.log.info({ nodeId: res.nodeId, heartbeatMs: this.heartbeatMs, gpus: inventory.gpus.length, baseModels: inventory.baseModels }, 'registered');
    if (changed) await this.consume();
  }

  private consume(): Promise<void> {
    const gpus = this.deps.inventory.gpus.map((g) => g.index);
    return this.deps.dispatch.start(this.nodeIdValue, gpus, (gpu, message) => this.handle(gpu, message));
  }

  private async start_(gpuIndex: number, jobId: string, attempt: number): Promise<void> {
    const existing = this.jobs.get(jobId);
    if (existing && existing.attempt >= attempt) return; // a duplicated or stale delivery never starts a job twice
    if (existing) await existing.exclusive(() => this.drop(existing, `superseded by attempt ${attempt}`));
    const job = new RunningJob(jobId, attempt, gpuIndex, jobPaths(this.deps.config.workDir, jobId, attempt));
    this.jobs.set(jobId, job);
    await job.exclusive(() => this.launch(job));
  }

  private async launch(job: RunningJob): Promise<void> {
    const { artifacts, config, engines, log } = this.deps;
    let assignment;
    try {
      assignment = await artifacts.getAssignment(job.jobId, job.attempt, this.nodeIdValue);
    } catch (e) {
      await this.end(job);
      throw e;
    }
    if (!assignment) {
      log.info({ jobId: job.jobId, attempt: job.attempt }, 'stale assignment; dropping the start');
      return this.end(job);
    }
    try {
      await rm(job.paths.root, { recursive: true, force: true });
      await mkdir(job.paths.root, { recursive: true });
      await artifacts.downloadTokenFile(assignment.tokenFileUrl, job.paths.tokens);
      if (assignment.validationTokenFileUrl) await artifacts.downloadTokenFile(assignment.validationTokenFileUrl, job.paths.validationTokens);
      if (assignment.checkpoint) {
        await artifacts.downloadCheckpoint(assignment.checkpoint.url, job.paths.checkpointDir);
        await restoreMetricsFromCheckpoint(job.paths.checkpointDir, job.paths.outputDir);
      }
      const modelDir = join(config.modelsDir, modelFolderName(assignment.model));
      job.engine = await engines.acquire(assignment.gpuIndex, assignment.model, modelDir);
      job.progress = new JobProgress(job.jobId, job.attempt, assignment.gpuIndex, assignment.totalSteps, assignment.checkpoint?.step ?? 0);
      await job.engine.addJob(buildEngineJob(assignment, job.paths, config.defaultCheckpointEvery));
    } catch (e) {
      const reason = e instanceof EngineJobFailedError ? failureReasonFor(e.reason) : FailureReason.FAILURE_REASON_ENGINE_CRASH;
      log.error({ jobId: job.jobId, attempt: job.attempt, err: (e as Error).message }, 'could not start the job');
      await this.reportAndEnd(job, { $case: 'failed', value: { reason, message: (e as Error).message } });
      return;
    }
    log.info({ jobId: job.jobId, attempt: job.attempt, gpuIndex: assignment.gpuIndex, model: assignment.model, resumeFrom: assignment.checkpoint?.step ?? null }, 'job started');
    if (!(await this.send(job, { $case: 'started', value: {} }))) await this.drop(job, 'start refused');
  }

  private async cancel(job: RunningJob): Promise<void> {
    await job.engine?.removeJob(job.jobId).catch(() => undefined);
    await this.reportAndEnd(job, { $case: 'failed', value: { reason: FailureReason.FAILURE_REASON_CANCELLED, message: 'cancelled' } });
  }

  /** Checkpoint, remove from the engine, upload, report `preempted`. */
  private async preempt(job: RunningJob): Promise<void> {
    const engine = job.engine;
    if (!engine || !engine.alive) return;
    try {
      await engine.checkpointJob(job.jobId);
    } catch (e) {
      // The job finished or failed first; its own event reports it.
      this.deps.log.info({ jobId: job.jobId, err: (e as Error).message }, 'no checkpoint to preempt with');
      return;
    }
    await engine.removeJob(job.jobId).catch(() => undefined);
    // Until removeJob the engine kept training and a periodic checkpoint may have replaced the one asked for: the
    // folder now holds its final state, and its own step is the one to resume from.
    const step = (JSON.parse(await readFile(join(job.paths.checkpointDir, 'state.json'), 'utf8')) as { step: number }).step;
    await addMetricsToCheckpoint(job.paths.outputDir, job.paths.checkpointDir, step);
    const key = await this.deps.artifacts.uploadCheckpoint(job.jobId, job.attempt, step, job.paths.checkpointDir);
    await this.reportAndEnd(job, { $case: 'preempted', value: { step, checkpointKey: key } });
  }

  /** Engine events → job operations, each run in order with the job's other operations. */
  private watch(engine: EngineProcess): void {
    const jobOf = (id: string) => {
      const job = this.jobs.get(id);
      return job && job.engine === engine && !job.ended ? job : undefined;
    };
    engine.on('step', (e) => jobOf(e.id)?.progress?.record(e));
    engine.on('checkpointed', (e) => {
      const job = jobOf(e.id);
      void job?.exclusive(() => this.uploadPeriodic(job, e.step)).catch((err) => this.jobError(job, 'checkpoint upload failed', err));
    });
    engine.on('job_finished', (e) => {
      const job = jobOf(e.id);
      void job?.exclusive(() => this.succeed(job, e)).catch((err) => this.jobError(job, 'reporting success failed', err));
    });
    engine.on('job_failed', (e) => {
      const job = jobOf(e.id);
      const value = { reason: failureReasonFor(e.reason), message: `${e.reason}: ${e.message}` };
      void job?.exclusive(() => this.reportAndEnd(job, { $case: 'failed', value })).catch((err) => this.jobError(job, 'reporting failure failed', err));
    });
    engine.on('exit', (exit) => this.onEngineExit(engine, exit));
  }

  private onEngineExit(engine: EngineProcess, exit: EngineExit): void {
    const victims = [...this.jobs.values()].filter((j) => j.engine === engine);
    this.deps.log.error({ code: exit.code, signal: exit.signal, jobs: victims.map((j) => j.jobId), stderr: exit.stderrTail.slice(-1000) }, 'engine exited unexpectedly');
    const message = `engine exited (code ${exit.code}, signal ${exit.signal}) ${exit.stderrTail.trim().split('\n').slice(-3).join(' | ')}`.trim();
    for (const job of victims) {
      void job
        .exclusive(() => this.reportAndEnd(job, { $case: 'failed', value: { reason: FailureReason.FAILURE_REASON_ENGINE_CRASH, message } }))
        .catch((err) => this.jobError(job, 'reporting the crash failed', err));
    }
  }

  /**
   * The engine keeps training while we upload, and may swap in a newer checkpoint; a copy taken now is checked
   * against the step it claims before it goes out.
   */
  private async uploadPeriodic(job: RunningJob, step: number): Promise<void> {
    const staging = join(job.paths.root, `upload-${step}`);
    try {
      await cp(job.paths.checkpointDir, staging, { recursive: true });
      const state = JSON.parse(await readFile(join(staging, 'state.json'), 'utf8')) as { step?: number };
      if (state.step !== step) return; // a newer checkpoint replaced it; its own event uploads that one
      await addMetricsToCheckpoint(job.paths.outputDir, staging, step);
      const key = await this.deps.artifacts.uploadCheckpoint(job.jobId, job.attempt, step, staging);
      // The steps up to the checkpoint reach the control plane before the checkpoint does.
      if (job.progress?.hasRecentSteps) await this.heartbeatNow();
      if (!(await this.send(job, { $case: 'checkpointSaved', value: { step, checkpointKey: key } }))) await this.drop(job, 'checkpoint refused');
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  private async succeed(job: RunningJob, finished: JobFinishedEvent): Promise<void> {
    const key = await this.deps.artifacts.uploadAdapter(job.jobId, job.attempt, job.paths.outputDir);
    const progress = job.progress;
    await this.reportAndEnd(job, {
      $case: 'succeeded',
      value: {
        adapterKey: key, trainedTokens: progress?.trainedTokens ?? 0, finalLoss: progress?.lastLoss ?? 0, earlyStopped: finished.earlyStopped,
        bestStep: finished.bestStep ?? undefined, bestValidationLoss: finished.bestValLoss ?? undefined,
      },
    });
  }

  /** The control plane no longer wants this attempt here: take it out of the engine without reporting. */
  private async drop(job: RunningJob, why: string): Promise<void> {
    this.deps.log.info({ jobId: job.jobId, attempt: job.attempt, why }, 'dropping job');
    if (job.engine?.alive) await job.engine.removeJob(job.jobId).catch(() => undefined);
    await this.end(job);
  }

  private async reportAndEnd(job: RunningJob, event: JobEvent): Promise<void> {
    // Steps since the last heartbeat are the tail of the loss curve: send them before the job leaves.
    if (job.progress?.hasRecentSteps) await this.heartbeatNow();
    await this.end(job);
    await this.send(job, event);
    this.deps.log.info({ jobId: job.jobId, attempt: job.attempt, event: event.$case, detail: event.value }, 'job ended');
  }

  private send(job: RunningJob, event: JobEvent): Promise<boolean> {
    return this.reporter.report(this.nodeIdValue, job.jobId, job.attempt, event);
  }

  private async end(job: RunningJob): Promise<void> {
    if (job.ended) return;
    job.ended = true;
    if (this.jobs.get(job.jobId) === job) this.jobs.delete(job.jobId);
    if (job.engine) this.deps.engines.release(job.engine);
    await rm(job.paths.root, { recursive: true, force: true }).catch(() => undefined);
  }

  private jobError(job: RunningJob, what: string, err: unknown): void {
    this.deps.log.error({ jobId: job.jobId, attempt: job.attempt, err: err instanceof Error ? err.message : String(err) }, what);
  }

  private scheduleHeartbeat(): void {
    if (this.heartbeatStopped) return;
    this.heartbeatTimer = setTimeout(() => void this.heartbeatNow().finally(() => this.scheduleHeartbeat()), this.heartbeatMs);
  }

  /** Heartbeats never overlap: each one takes the steps the previous one did not send. */
  private heartbeatNow(): Promise<void> {
    this.heartbeatRunning = this.heartbeatRunning.then(() => this.heartbeat());
    return this.heartbeatRunning;
  }

  private async heartbeat(): Promise<void> {
    const jobs = [...this.jobs.values()].filter((j) => j.progress && !j.ended);
    const req: HeartbeatRequest = {
      nodeId: this.nodeIdValue,
      gpus: this.deps.inventory.gpus.map((g) => gpuTelemetry(g.index, this.deps.engines.memoriesOn(g.index))),
      jobs: jobs.map((j) => (j.progress as JobProgress).takeTelemetry()),
    };
    try {
      const res = await this.deps.rpc.heartbeat(req);
      if (!res.known) {
        this.deps.log.warn({ nodeId: this.nodeIdValue }, 'control plane does not know this node; registering again');
        await this.register();
      }
    } catch (e) {
      jobs.forEach((j, i) => j.progress?.putBack(req.jobs[i]));
      this.deps.log.warn({ err: (e as Error).message }, 'heartbeat failed');
    }
  }
}
