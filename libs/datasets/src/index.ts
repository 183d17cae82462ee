export { DatasetError } from './dataset.error';
export type { DatasetErrorCode, DatasetErrorDetails, LineError } from './dataset.error';

export type { ChatMessage, ChatRole, Example, ExampleFormat } from './jsonl/example';
export { DEFAULT_MAX_LINE_BYTES, JsonlExamples } from './jsonl/jsonl-examples';
export type { JsonlItem, JsonlReadOptions } from './jsonl/jsonl-examples';
export type { JsonlSource } from './jsonl/jsonl-source';
export { DEFAULT_MAX_ERRORS, validateJsonl } from './jsonl/validate-jsonl';
export type { JsonlValidation, ValidateJsonlOptions } from './jsonl/validate-jsonl';

export { DatasetTokenizer } from './tokenizer/dataset-tokenizer';
export type { TokenizerFiles } from './tokenizer/dataset-tokenizer';
export { alpacaPrompt } from './encoding/alpaca-template';
export { encodeExample } from './encoding/encode-example';
export type { EncodedExample, EncodeResult } from './encoding/encoded-example';
export { applyLengthPolicy } from './encoding/length-policy';
export type { DropReason, LengthOutcome, OverlengthPolicy } from './encoding/length-policy';

export { tokenFileByteSize } from './token-file/token-file-format';
export { TokenFileWriter } from './token-file/token-file-writer';
export type { TokenFileSummary } from './token-file/token-file-writer';
export { exampleOf, parseTokenFile, readTokenFile } from './token-file/token-file-reader';
export type { TokenFile } from './token-file/token-file-reader';

export { histogramBounds } from './stats/dataset-stats';
export type { DatasetStats, HistogramBucket } from './stats/dataset-stats';
export { tokenizeDataset } from './tokenize-dataset';
export type { TokenizeDatasetOptions, TokenizeDatasetResult, TokenizerSource } from './tokenize-dataset';
