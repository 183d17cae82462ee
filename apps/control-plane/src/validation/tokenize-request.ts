import type { DatasetStats } from '@grove/datasets';

/** One tokenization, as sent to the tokenizer thread. Tokenizers are cached there by `modelId`. */
export interface TokenizeRequest {
  id: number;
  modelId: string;
  tokenizerJsonPath: string;
  tokenizerConfigPath: string;
  jsonlPath: string;
  maxSeqLen: number;
  onOverlength: 'truncate' | 'refuse';
  maxErrors: number;
  outPath: string;
}

export type TokenizeReply =
  | { id: number; ok: true; stats: DatasetStats }
  | { id: number; ok: false; datasetError: boolean; code: string; message: string; details: unknown };
