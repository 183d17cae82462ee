/**
 * Layout of the `.gtok` token file, version 1 (docs/token-file.md): a 32-byte header, then
 * u64 offsets[n_examples + 1], u32 token ids[n_tokens], u8 loss mask[n_tokens]; little-endian.
 */
export const TOKEN_FILE_MAGIC = Buffer.from('GROVETOK', 'ascii');
export const TOKEN_FILE_VERSION = 1;
export const TOKEN_FILE_HEADER_BYTES = 32;
/** The file format's own lower bound: an example needs a token to predict from and one to predict. */
export const MIN_EXAMPLE_TOKENS = 2;

/** The exact size of a valid file; any other size means a corrupt file. */
export function tokenFileByteSize(examples: number, tokens: number): number {
  return TOKEN_FILE_HEADER_BYTES + 8 * (examples + 1) + 5 * tokens;
}

/** Header and offsets table, ready to be written in front of the token and mask sections. */
export function encodeTokenFileHead(offsets: readonly number[]): Buffer {
  const examples = offsets.length - 1;
  const head = Buffer.alloc(TOKEN_FILE_HEADER_BYTES + 8 * offsets.length);
  TOKEN_FILE_MAGIC.copy(head, 0);
  head.writeUInt32LE(TOKEN_FILE_VERSION, 8);
  head.writeUInt32LE(0, 12);
  head.writeBigUInt64LE(BigInt(examples), 16);
  head.writeBigUInt64LE(BigInt(offsets[examples]), 24);
  offsets.forEach((offset, i) => head.writeBigUInt64LE(BigInt(offset), TOKEN_FILE_HEADER_BYTES + 8 * i));
  return head;
}
