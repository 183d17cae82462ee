import { FileHandle } from 'node:fs/promises';

/** Batches small writes to one file so each example does not cost a system call. */
export class SectionBuffer {
  private readonly buffer: Buffer;
  private used = 0;

  constructor(
    private readonly file: FileHandle,
    capacityBytes: number,
  ) {
    this.buffer = Buffer.allocUnsafe(capacityBytes);
  }

  async write(bytes: Buffer): Promise<void> {
    if (this.used + bytes.length > this.buffer.length) await this.flush();
    if (bytes.length > this.buffer.length) {
      await writeAll(this.file, bytes);
      return;
    }
    bytes.copy(this.buffer, this.used);
    this.used += bytes.length;
  }

  async flush(): Promise<void> {
    await writeAll(this.file, this.buffer.subarray(0, this.used));
    this.used = 0;
  }
}

/** Writes all of `bytes` at the file's current position (a single write may be partial). */
export async function writeAll(file: FileHandle, bytes: Buffer): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await file.write(bytes, written, bytes.length - written);
    written += bytesWritten;
  }
}
