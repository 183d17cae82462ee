import { createReadStream } from 'node:fs';
import { access, mkdir, readFile, rename, rm, writeFile, copyFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { ArtifactStore } from './artifact-store';

/** Artifacts as files under one root folder; temp files live in `<root>/tmp` so a rename into place is atomic. */
export class FilesystemArtifactStore implements ArtifactStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async putFile(key: string, localPath: string): Promise<void> {
    const target = this.pathOf(key);
    await mkdir(dirname(target), { recursive: true });
    try {
      await rename(localPath, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      const staging = `${target}.${randomBytes(4).toString('hex')}.partial`;
      await copyFile(localPath, staging);
      await rename(staging, target);
      await rm(localPath, { force: true });
    }
  }

  async putBuffer(key: string, data: Buffer): Promise<void> {
    const staging = await this.tempPath('buffer');
    await writeFile(staging, data);
    await this.putFile(key, staging);
  }

  read(key: string): Readable {
    return createReadStream(this.pathOf(key));
  }

  readBuffer(key: string): Promise<Buffer> {
    return readFile(this.pathOf(key));
  }

  async localPath(key: string): Promise<string> {
    return this.pathOf(key);
  }

  async tempPath(hint: string): Promise<string> {
    const dir = join(this.root, 'tmp');
    await mkdir(dir, { recursive: true });
    return join(dir, `${Date.now()}-${randomBytes(6).toString('hex')}-${hint.replace(/[^\w.-]/g, '_')}`);
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async exists(key: string): Promise<boolean> {
    return access(this.pathOf(key)).then(
      () => true,
      () => false,
    );
  }

  private pathOf(key: string): string {
    const path = resolve(this.root, key);
    if (!path.startsWith(this.root + sep)) throw new Error(`artifact key escapes the store: ${key}`);
    return path;
  }
}
