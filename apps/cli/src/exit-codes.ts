/**
 * The `grove` CLI's exit codes, documented in docs/ci.md. Distinct per cause so a pipeline can tell "the job failed"
 * from "the request was wrong" from "the control plane could not be reached".
 */
export const ExitCode = {
  ok: 0,
  /** `--wait`: the job ended `failed`. */
  jobFailed: 1,
  /** Unknown command or flag, missing or malformed argument, unreadable or invalid input file, no token. */
  usage: 2,
  /** The API answered with an error (`error: <code>: <message> (param)`), after retries for 5xx. */
  api: 3,
  /** `--wait`: the job ended `cancelled`. */
  jobCancelled: 4,
  /** No answer from the API (connection refused, DNS, reset, timeout) after retries. */
  network: 5,
  /** A local failure (writing the output file) or a bug in the CLI. */
  local: 6,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
