import { readFile } from 'node:fs/promises';
import { DatasetError } from '../dataset.error';
import {
  MIN_EXAMPLE_TOKENS,
  TOKEN_FILE_HEADER_BYTES,
  TOKEN_FILE_MAGIC,
  TOKEN_FILE_VERSION,
  tokenFileByteSize,
} from './token-file-format';

/** A `.gtok` file read fully into memory and checked against every rule of the format. */
export interface TokenFile {
  examples: number;
  tokens: number;
  offsets: number[];
  ids: Uint32Array;
  mask: Uint8Array;
}

/**
 * Reads and verifies a token file; throws `corrupt_token_file` naming the first broken rule.
 * Meant for tests and tools on modest files (the engine memory-maps instead).
 */
export async function readTokenFile(path: string): Promise<TokenFile> {
  return parseTokenFile(await readFile(path));
}

export function parseTokenFile(bytes: Buffer): TokenFile {
  if (bytes.length < TOKEN_FILE_HEADER_BYTES) corrupt(`file is ${bytes.length} bytes, shorter than the header`);
  if (!bytes.subarray(0, 8).equals(TOKEN_FILE_MAGIC)) corrupt('magic is not GROVETOK');
  const version = bytes.readUInt32LE(8);
  if (version !== TOKEN_FILE_VERSION) corrupt(`version is ${version}, expected ${TOKEN_FILE_VERSION}`);
  const flags = bytes.readUInt32LE(12);
  if (flags !== 0) corrupt(`flags are ${flags}, expected 0`);
  const examples = safeNumber(bytes.readBigUInt64LE(16), 'n_examples');
  const tokens = safeNumber(bytes.readBigUInt64LE(24), 'n_tokens');
  if (examples < 1) corrupt('n_examples is 0');
  const expectedSize = tokenFileByteSize(examples, tokens);
  if (bytes.length !== expectedSize) corrupt(`file is ${bytes.length} bytes, expected ${expectedSize} for its counts`);

  const offsets = readOffsets(bytes, examples, tokens);
  const idsStart = TOKEN_FILE_HEADER_BYTES + 8 * (examples + 1);
  const maskStart = idsStart + 4 * tokens;
  const ids = new Uint32Array(tokens);
  for (let i = 0; i < tokens; i += 1) ids[i] = bytes.readUInt32LE(idsStart + 4 * i);
  const mask = Uint8Array.from(bytes.subarray(maskStart, maskStart + tokens));
  checkMask(mask, offsets);
  return { examples, tokens, offsets, ids, mask };
}

/** The tokens and mask of example `index`. */
export function exampleOf(file: TokenFile, index: number): { ids: number[]; mask: number[] } {
  const [start, end] = [file.offsets[index], file.offsets[index + 1]];
  return { ids: Array.from(file.ids.subarray(start, end)), mask: Array.from(file.mask.subarray(start, end)) };
}

function readOffsets(bytes: Buffer, examples: number, tokens: number): number[] {
  const offsets: number[] = [];
  for (let i = 0; i <= examples; i += 1) {
    offsets.push(safeNumber(bytes.readBigUInt64LE(TOKEN_FILE_HEADER_BYTES + 8 * i), `offsets[${i}]`));
  }
  if (offsets[0] !== 0) corrupt(`offsets[0] is ${offsets[0]}, expected 0`);
  if (offsets[examples] !== tokens) corrupt(`offsets[${examples}] is ${offsets[examples]}, expected n_tokens ${tokens}`);
  for (let i = 0; i < examples; i += 1) {
    const length = offsets[i + 1] - offsets[i];
    if (length < MIN_EXAMPLE_TOKENS) corrupt(`example ${i} has ${length} tokens, fewer than ${MIN_EXAMPLE_TOKENS}`);
  }
  return offsets;
}

function checkMask(mask: Uint8Array, offsets: number[]): void {
  for (let i = 0; i < mask.length; i += 1) if (mask[i] > 1) corrupt(`mask[${i}] is ${mask[i]}, expected 0 or 1`);
  for (let e = 0; e + 1 < offsets.length; e += 1) {
    if (mask[offsets[e]] !== 0) corrupt(`example ${e} has a target at its first token`);
  }
}

function safeNumber(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) corrupt(`${field} is ${value}, too large`);
  return Number(value);
}

function corrupt(reason: string): never {
  throw new DatasetError('corrupt_token_file', `corrupt token file: ${reason}`);
}
