/** A domain error of the scheduler library; `code` is stable and machine-readable. */
export class SchedulerError extends Error {
  constructor(
    readonly code: 'unknown_model' | 'unknown_gpu_type' | 'invalid_trace' | 'invalid_input',
    message: string,
  ) {
    super(message);
    this.name = 'SchedulerError';
  }
}
