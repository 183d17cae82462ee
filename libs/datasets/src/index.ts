export { DatasetError, DatasetErrorCode, DatasetErrorDetails, LineError } from './dataset.error';
export { ChatMessage, ChatRole, Example, ExampleFormat } from './jsonl/example';
export { DEFAULT_MAX_LINE_BYTES, JsonlExamples, JsonlItem, JsonlReadOptions } from './jsonl/jsonl-examples';
export { JsonlSource } from './jsonl/jsonl-source';
export { DEFAULT_MAX_ERRORS, JsonlValidation, ValidateJsonlOptions, validateJsonl } from './jsonl/validate-jsonl';
