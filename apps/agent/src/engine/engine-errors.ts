import type { EngineFailureReason } from './engine-events';

/** The engine process could not start (bad binary, model that does not load). */
export class EngineStartError extends Error {
  readonly code = 'engine_start_failed';
}

/** The engine answered a command with an `error` event. */
export class EngineCommandError extends Error {
  readonly code = 'engine_command_refused';
  constructor(readonly cmd: string, message: string) {
    super(`engine refused ${cmd}: ${message}`);
  }
}

/** The engine stopped a job (`job_failed`), e.g. while adding it. */
export class EngineJobFailedError extends Error {
  readonly code = 'engine_job_failed';
  constructor(readonly jobId: string, readonly reason: EngineFailureReason, readonly detail: string) {
    super(`job ${jobId} failed in the engine (${reason}): ${detail}`);
  }
}

/** The engine process is gone, so a command can no longer be answered. */
export class EngineExitedError extends Error {
  readonly code = 'engine_exited';
}
