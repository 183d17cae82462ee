// Runs in a worker thread: tokenization is CPU-bound (seconds for a large dataset, ~1 s to load a tokenizer) and
// must not stall the control plane's event loop (HTTP, gRPC heartbeats, dispatch).
import { DatasetError, DatasetTokenizer, tokenizeDataset } from '@grove/datasets';
import { readFile } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import type { TokenizeReply, TokenizeRequest } from './tokenize-request';

const TOKENIZER_CACHE_SIZE = 8;
const tokenizers = new Map<string, DatasetTokenizer>();

async function tokenizerOf(req: TokenizeRequest): Promise<DatasetTokenizer> {
  const cached = tokenizers.get(req.modelId);
  if (cached) return cached;
  const [tokenizerJson, tokenizerConfig] = await Promise.all([
    readFile(req.tokenizerJsonPath, 'utf8').then(JSON.parse),
    readFile(req.tokenizerConfigPath, 'utf8').then(JSON.parse),
  ]);
  const tokenizer = DatasetTokenizer.load({ tokenizerJson, tokenizerConfig });
  if (tokenizers.size >= TOKENIZER_CACHE_SIZE) tokenizers.delete(tokenizers.keys().next().value!);
  tokenizers.set(req.modelId, tokenizer);
  return tokenizer;
}

async function handle(req: TokenizeRequest): Promise<TokenizeReply> {
  try {
    const { stats } = await tokenizeDataset({
      tokenizer: await tokenizerOf(req),
      jsonlPath: req.jsonlPath,
      maxSeqLen: req.maxSeqLen,
      onOverlength: req.onOverlength,
      maxErrors: req.maxErrors,
      outPath: req.outPath,
    });
    return { id: req.id, ok: true, stats };
  } catch (error) {
    if (error instanceof DatasetError) {
      return { id: req.id, ok: false, datasetError: true, code: error.code, message: error.message, details: error.details };
    }
    return { id: req.id, ok: false, datasetError: false, code: 'internal', message: (error as Error).message, details: null };
  }
}

parentPort!.on('message', (req: TokenizeRequest) => {
  void handle(req).then((reply) => parentPort!.postMessage(reply));
});
