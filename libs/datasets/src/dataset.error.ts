/** A problem found on one line of a JSONL file; line 0 means the file as a whole. */
export interface LineError {
  line: number;
  reason: string;
}

/** Codes the control plane maps to API errors; each names a failure the user can act on. */
export type DatasetErrorCode =
  | 'invalid_dataset'
  | 'all_examples_dropped'
  | 'invalid_tokenizer'
  | 'invalid_options'
  | 'corrupt_token_file';

export interface DatasetErrorDetails {
  /** First errors, in line order (bounded by `maxErrors`). */
  errors?: LineError[];
  /** Total number of errors, including those not listed. */
  errorCount?: number;
  /** Why examples were dropped, for `all_examples_dropped`. */
  dropped?: { overlength: number; no_targets: number };
}

/** The one error type this library throws for bad input. */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';

  constructor(
    readonly code: DatasetErrorCode,
    message: string,
    readonly details: DatasetErrorDetails = {},
  ) {
    super(message);
  }
}
