export { DatasetError } from './dataset.error';
export type { DatasetErrorCode, DatasetErrorDetails, LineError } from './dataset.error';
export type { ChatMessage, ChatRole, Example, ExampleFormat } from './jsonl/example';
export { DEFAULT_MAX_LINE_BYTES, JsonlExamples } from './jsonl/jsonl-examples';
export type { JsonlItem, JsonlReadOptions } from './jsonl/jsonl-examples';
export type { JsonlSource } from './jsonl/jsonl-source';
export { DEFAULT_MAX_ERRORS, validateJsonl } from './jsonl/validate-jsonl';
export type { JsonlValidation, ValidateJsonlOptions } from './jsonl/validate-jsonl';
