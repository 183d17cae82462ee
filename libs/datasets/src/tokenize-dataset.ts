import { DatasetError, LineError } from './dataset.error';
import { countTargets } from './encoding/encoded-example';
import { encodeExample } from './encoding/encode-example';
import { applyLengthPolicy, OverlengthPolicy } from './encoding/length-policy';
import { JsonlExamples } from './jsonl/jsonl-examples';
import { DEFAULT_MAX_ERRORS } from './jsonl/validate-jsonl';
import { MIN_EXAMPLE_TOKENS } from './token-file/token-file-format';
import { TokenFileWriter } from './token-file/token-file-writer';
import { DatasetStats, DatasetStatsCollector } from './stats/dataset-stats';
import { DatasetTokenizer, TokenizerFiles } from './tokenizer/dataset-tokenizer';

/**
 * The base model's tokenizer: its files (tokenizer.json and tokenizer_config.json, parsed), or a
 * DatasetTokenizer already loaded from them, which saves about a second per dataset of the same model.
 */
export type TokenizerSource = TokenizerFiles | { tokenizer: DatasetTokenizer };

export type TokenizeDatasetOptions = TokenizerSource & {
  /** The uploaded JSONL file. */
  jsonlPath: string;
  /** Longest example, in tokens, the engine will train on. */
  maxSeqLen: number;
  onOverlength: OverlengthPolicy;
  /** Where the `.gtok` file goes; written as `<outPath>.tmp` and renamed when complete. */
  outPath: string;
  /** How many line errors to list in a DatasetError (all are counted). */
  maxErrors?: number;
  maxLineBytes?: number;
};

export interface TokenizeDatasetResult {
  stats: DatasetStats;
  /** Size of the written token file. */
  bytes: number;
}

/**
 * The validation stage in one streaming pass: reads the JSONL file, encodes every example with the
 * model's tokenizer, applies the length policy and writes the token file.
 * Throws DatasetError: `invalid_options`, `invalid_tokenizer`, `invalid_dataset` (with the first
 * line errors; once a line fails, later lines are only validated, not encoded) or
 * `all_examples_dropped`. On any failure nothing is left at `outPath` or beside it.
 */
export async function tokenizeDataset(options: TokenizeDatasetOptions): Promise<TokenizeDatasetResult> {
  checkOptions(options);
  const tokenizer = 'tokenizer' in options ? options.tokenizer : DatasetTokenizer.load(options);
  const maxErrors = options.maxErrors ?? DEFAULT_MAX_ERRORS;
  const stats = new DatasetStatsCollector(options.maxSeqLen);
  const errors: LineError[] = [];
  let errorCount = 0;
  const addError = (error: LineError): void => {
    errorCount += 1;
    if (errors.length < maxErrors) errors.push(error);
  };

  const writer = await TokenFileWriter.create(options.outPath);
  try {
    for await (const item of new JsonlExamples(options.jsonlPath, options)) {
      if ('reason' in item) {
        addError(item);
        continue;
      }
      if (errorCount > 0) continue;
      const result = encodeExample(tokenizer, item.example);
      if ('reason' in result) {
        addError({ line: item.line, reason: result.reason });
        continue;
      }
      const outcome = applyLengthPolicy(result.encoded, options.maxSeqLen, options.onOverlength);
      if ('dropped' in outcome) {
        stats.addDropped(outcome.dropped);
        continue;
      }
      await writer.append(outcome.kept.ids, outcome.kept.mask);
      stats.addKept(outcome.kept.ids.length, countTargets(outcome.kept), outcome.truncated);
    }
    if (errorCount > 0) throw invalidDataset(errors, errorCount);
    const result = stats.result();
    if (result.examples === 0) throw allDropped(result);
    const { bytes } = await writer.finish();
    return { stats: result, bytes };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

function checkOptions({ maxSeqLen, onOverlength, outPath, jsonlPath }: TokenizeDatasetOptions): void {
  if (!Number.isInteger(maxSeqLen) || maxSeqLen < MIN_EXAMPLE_TOKENS) {
    throw new DatasetError('invalid_options', `maxSeqLen must be an integer of at least ${MIN_EXAMPLE_TOKENS}, got ${maxSeqLen}`);
  }
  if (onOverlength !== 'truncate' && onOverlength !== 'refuse') {
    throw new DatasetError('invalid_options', `onOverlength must be "truncate" or "refuse", got ${JSON.stringify(onOverlength)}`);
  }
  if (!outPath) throw new DatasetError('invalid_options', 'outPath must be a file path');
  if (!jsonlPath) throw new DatasetError('invalid_options', 'jsonlPath must be a file path');
}

function invalidDataset(errors: LineError[], errorCount: number): DatasetError {
  const first = errors[0];
  const where = first.line === 0 ? '' : `line ${first.line}: `;
  const lines = errorCount === 1 ? '1 error' : `${errorCount} errors`;
  return new DatasetError('invalid_dataset', `dataset has ${lines}; first: ${where}${first.reason}`, { errors, errorCount });
}

function allDropped({ dropped }: DatasetStats): DatasetError {
  const total = dropped.overlength + dropped.no_targets;
  return new DatasetError(
    'all_examples_dropped',
    `all ${total} examples were dropped: ${dropped.overlength} too long for max_seq_len, ${dropped.no_targets} without target tokens`,
    { dropped: { ...dropped } },
  );
}
