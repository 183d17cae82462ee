import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { ApiRequestError, errorLines, exitCodeFor, JobOutcomeError, LocalError, NetworkError, UsageError } from './cli-errors';
import { ExitCode } from './exit-codes';

describe(exitCodeFor.name, () => {
  it.each([
    [new UsageError('bad'), ExitCode.usage],
    [new ApiRequestError(400, 'invalid_request', 'm', 'p'), ExitCode.api],
    [new NetworkError('down'), ExitCode.network],
    [new LocalError('disk'), ExitCode.local],
    [new JobOutcomeError('job_1', 'failed', { code: 'oom', message: 'm' }), ExitCode.jobFailed],
    [new JobOutcomeError('job_1', 'cancelled', null), ExitCode.jobCancelled],
    [new CommanderError(1, 'commander.unknownOption', 'x'), ExitCode.usage],
    [new CommanderError(1, 'commander.unknownCommand', 'x'), ExitCode.usage],
    [new CommanderError(1, 'commander.missingMandatoryOptionValue', 'x'), ExitCode.usage],
    [new CommanderError(0, 'commander.helpDisplayed', 'x'), ExitCode.ok],
    [new CommanderError(0, 'commander.version', 'x'), ExitCode.ok],
    [new TypeError('a bug'), ExitCode.local],
  ])('%s → %i', (error, code) => {
    expect(exitCodeFor(error)).toBe(code);
  });

  it('gives every cause its own code', () => {
    expect(new Set(Object.values(ExitCode)).size).toBe(Object.keys(ExitCode).length);
  });
});

describe(errorLines.name, () => {
  it('prints API errors as code: message (param)', () => {
    expect(errorLines(new ApiRequestError(400, 'invalid_request', 'hyperparameters.lora.r: too small', 'hyperparameters.lora.r'))).toEqual([
      'error: invalid_request: hyperparameters.lora.r: too small (hyperparameters.lora.r)',
    ]);
    expect(errorLines(new ApiRequestError(404, 'not_found', 'no such job', null))).toEqual(['error: not_found: no such job']);
  });

  it("lists a rejected dataset's lines and how many more there are", () => {
    const error = new ApiRequestError(422, 'unprocessable', 'invalid dataset', 'file', { errors: [{ line: 3, reason: 'not JSON' }], error_count: 5 });
    expect(errorLines(error)).toEqual(['error: unprocessable: invalid dataset (file)', '  line 3: not JSON', '  … 4 more']);
  });

  it("prints a failed job's error code and message", () => {
    expect(errorLines(new JobOutcomeError('job_1', 'failed', { code: 'all_examples_dropped', message: 'every example was too long' }))).toEqual([
      'error: job job_1 failed: all_examples_dropped: every example was too long',
    ]);
  });

  it('leaves commander errors to commander, which already printed them', () => {
    expect(errorLines(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'"))).toEqual([]);
  });
});
