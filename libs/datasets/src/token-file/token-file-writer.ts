import { FileHandle, open, rename, rm } from 'node:fs/promises';
import { DatasetError } from '../dataset.error';
import { SectionBuffer, writeAll } from './section-buffer';
import { encodeTokenFileHead, MIN_EXAMPLE_TOKENS, tokenFileByteSize } from './token-file-format';

const SECTION_BUFFER_BYTES = 1 << 20;
const COPY_CHUNK_BYTES = 4 << 20;

export interface TokenFileSummary {
  examples: number;
  tokens: number;
  bytes: number;
}

/**
 * Streams examples into a `.gtok` file. The header's counts and the offsets table are known only at
 * the end, so ids and masks go to two side files while offsets stay in memory (8 bytes per example);
 * `finish` assembles `<out>.tmp` and renames it to `<out>`. The final path therefore holds either the
 * previous file or a complete new one, never a partial one; `abort` removes every side file.
 */
export class TokenFileWriter {
  private readonly offsets: number[] = [0];
  private closed = false;

  private constructor(
    private readonly outPath: string,
    private readonly idsFile: FileHandle,
    private readonly maskFile: FileHandle,
    private readonly ids: SectionBuffer,
    private readonly mask: SectionBuffer,
  ) {}

  static async create(outPath: string): Promise<TokenFileWriter> {
    const idsFile = await open(idsPathOf(outPath), 'w');
    let maskFile: FileHandle;
    try {
      maskFile = await open(maskPathOf(outPath), 'w');
    } catch (error) {
      await idsFile.close();
      await removeQuietly(idsPathOf(outPath));
      throw error;
    }
    return new TokenFileWriter(
      outPath,
      idsFile,
      maskFile,
      new SectionBuffer(idsFile, SECTION_BUFFER_BYTES),
      new SectionBuffer(maskFile, SECTION_BUFFER_BYTES / 4),
    );
  }

  get examples(): number {
    return this.offsets.length - 1;
  }

  /** Appends one example; `mask[i]` is 1 when token i is a target, and token 0 never is. */
  async append(ids: ArrayLike<number>, mask: ArrayLike<number>): Promise<void> {
    this.assertOpen();
    checkExample(ids, mask);
    const idBytes = Buffer.allocUnsafe(4 * ids.length);
    const maskBytes = Buffer.allocUnsafe(mask.length);
    for (let i = 0; i < ids.length; i += 1) {
      idBytes.writeUInt32LE(ids[i], 4 * i);
      maskBytes[i] = mask[i];
    }
    await this.ids.write(idBytes);
    await this.mask.write(maskBytes);
    this.offsets.push(this.offsets[this.offsets.length - 1] + ids.length);
  }

  /** Writes the final file; on failure nothing is left behind and the error is rethrown. */
  async finish(): Promise<TokenFileSummary> {
    this.assertOpen();
    try {
      if (this.examples === 0) throw new DatasetError('all_examples_dropped', 'a token file needs at least one example');
      await this.ids.flush();
      await this.mask.flush();
      await this.closeSideFiles();
      await this.assemble();
      await rename(tmpPathOf(this.outPath), this.outPath);
    } catch (error) {
      await this.abort();
      throw error;
    }
    await this.removeSideFiles();
    const tokens = this.offsets[this.examples];
    return { examples: this.examples, tokens, bytes: tokenFileByteSize(this.examples, tokens) };
  }

  /** Discards everything written so far; safe to call more than once. */
  async abort(): Promise<void> {
    await this.closeSideFiles();
    await this.removeSideFiles();
    await removeQuietly(tmpPathOf(this.outPath));
  }

  private async assemble(): Promise<void> {
    const out = await open(tmpPathOf(this.outPath), 'w');
    try {
      await writeAll(out, encodeTokenFileHead(this.offsets));
      await copyInto(out, idsPathOf(this.outPath));
      await copyInto(out, maskPathOf(this.outPath));
      await out.sync();
    } finally {
      await out.close();
    }
  }

  private async closeSideFiles(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([this.idsFile.close(), this.maskFile.close()]);
  }

  private async removeSideFiles(): Promise<void> {
    await removeQuietly(idsPathOf(this.outPath));
    await removeQuietly(maskPathOf(this.outPath));
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('TokenFileWriter is already finished or aborted');
  }
}

function checkExample(ids: ArrayLike<number>, mask: ArrayLike<number>): void {
  if (ids.length !== mask.length) throw new RangeError(`ids (${ids.length}) and mask (${mask.length}) differ in length`);
  if (ids.length < MIN_EXAMPLE_TOKENS) throw new RangeError(`an example needs at least ${MIN_EXAMPLE_TOKENS} tokens, got ${ids.length}`);
  if (mask[0] !== 0) throw new RangeError('the first token of an example cannot be a target');
  for (let i = 0; i < ids.length; i += 1) {
    const id = ids[i];
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new RangeError(`token id ${id} at ${i} is not a u32`);
    if (mask[i] !== 0 && mask[i] !== 1) throw new RangeError(`mask value ${mask[i]} at ${i} is not 0 or 1`);
  }
}

async function copyInto(out: FileHandle, path: string): Promise<void> {
  const source = await open(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await source.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) return;
      await writeAll(out, chunk.subarray(0, bytesRead));
    }
  } finally {
    await source.close();
  }
}

async function removeQuietly(path: string): Promise<void> {
  await rm(path, { force: true });
}

const tmpPathOf = (outPath: string): string => `${outPath}.tmp`;
const idsPathOf = (outPath: string): string => `${outPath}.ids.tmp`;
const maskPathOf = (outPath: string): string => `${outPath}.mask.tmp`;
