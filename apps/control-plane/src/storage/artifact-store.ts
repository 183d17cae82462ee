import type { Readable } from 'node:stream';

/**
 * Where datasets, tokenizer files, token files and (later) adapters live. Keys are relative paths
 * (`datasets/file_….jsonl`). The filesystem store is the default; an object store can implement the same interface.
 */
export interface ArtifactStore {
  /** Moves a finished local file into the store under `key` (atomically: readers never see half a file). */
  putFile(key: string, localPath: string): Promise<void>;
  putBuffer(key: string, data: Buffer): Promise<void>;
  read(key: string): Readable;
  readBuffer(key: string): Promise<Buffer>;
  /** A local path holding the artifact, for tools that need a file (the tokenizer stage, the engine). */
  localPath(key: string): Promise<string>;
  /** A fresh local path for a file that will be `putFile`d (or removed) afterwards. */
  tempPath(hint: string): Promise<string>;
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
}

export const ARTIFACT_STORE = Symbol('ARTIFACT_STORE');
