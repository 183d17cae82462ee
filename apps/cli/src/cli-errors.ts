import { ExitCode, type ExitCodeValue } from './exit-codes';

/** A failure the CLI reports as one `error: …` line (plus detail lines) and an exit code. */
export abstract class CliError extends Error {
  abstract readonly exitCode: ExitCodeValue;
  /** Extra lines printed after the `error:` line (e.g. a dataset's invalid lines). */
  detailLines(): string[] {
    return [];
  }
}

/** Bad command line or input file. */
export class UsageError extends CliError {
  readonly exitCode = ExitCode.usage;
}

/** The API's error shape `{error: {code, message, param, details?}}`, or a non-Grove answer mapped onto it. */
export class ApiRequestError extends CliError {
  readonly exitCode = ExitCode.api;
  constructor(
    readonly status: number,
    readonly code: string,
    readonly apiMessage: string,
    readonly param: string | null,
    readonly details?: unknown,
  ) {
    super(`${code}: ${apiMessage}${param ? ` (${param})` : ''}`);
  }

  override detailLines(): string[] {
    const errors = (this.details as { errors?: { line?: number; reason?: string }[] } | undefined)?.errors;
    if (!Array.isArray(errors)) return [];
    const count = (this.details as { error_count?: number }).error_count;
    const lines = errors.map((e) => `  line ${e.line ?? '?'}: ${e.reason ?? ''}`);
    if (typeof count === 'number' && count > errors.length) lines.push(`  … ${count - errors.length} more`);
    return lines;
  }
}

/** The control plane did not answer. */
export class NetworkError extends CliError {
  readonly exitCode = ExitCode.network;
}

/** Writing a local file failed. */
export class LocalError extends CliError {
  readonly exitCode = ExitCode.local;
}

/** `--wait` saw the job end in a state other than `succeeded`. */
export class JobOutcomeError extends CliError {
  readonly exitCode: ExitCodeValue;
  constructor(
    readonly jobId: string,
    readonly status: 'failed' | 'cancelled',
    readonly jobError: { code?: string; message?: string } | null,
  ) {
    super(
      status === 'failed'
        ? `job ${jobId} failed: ${jobError?.code ?? 'unknown'}: ${jobError?.message ?? 'no message'}`
        : `job ${jobId} was cancelled`,
    );
    this.exitCode = status === 'failed' ? ExitCode.jobFailed : ExitCode.jobCancelled;
  }
}

/** Commander's own errors carry a `code` like `commander.unknownOption`; help and version are not failures. */
const COMMANDER_SUCCESS = new Set(['commander.helpDisplayed', 'commander.version']);

/** The exit code for anything a command threw. */
export function exitCodeFor(error: unknown): ExitCodeValue {
  if (error instanceof CliError) return error.exitCode;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('commander.')) return COMMANDER_SUCCESS.has(code) ? ExitCode.ok : ExitCode.usage;
  return ExitCode.local;
}

/** The lines to print on stderr for an error; commander already printed its own. */
export function errorLines(error: unknown): string[] {
  if (error instanceof CliError) return [`error: ${error.message}`, ...error.detailLines()];
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('commander.')) return [];
  return [`error: unexpected: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`];
}
