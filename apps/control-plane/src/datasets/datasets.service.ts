import { Inject, Injectable } from '@nestjs/common';
import { validateJsonl } from '@grove/datasets';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { ApiError } from '../common/api-error';
import { newId } from '../common/ids';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ARTIFACT_STORE, type ArtifactStore } from '../storage/artifact-store';
import { DatasetsRepository, type DatasetRecord } from './datasets.repository';

export interface UploadedDataset {
  path: string;
  originalName: string;
  size: number;
}

@Injectable()
export class DatasetsService {
  constructor(
    private readonly datasets: DatasetsRepository,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Validates the uploaded JSONL line by line; stores it only when every line is a valid example. */
  async upload(teamId: string, file: UploadedDataset): Promise<DatasetRecord> {
    const id = newId('file');
    const key = `datasets/${id}.jsonl`;
    try {
      const hash = createHash('sha256');
      const chunks = hashing(createReadStream(file.path), hash);
      const result = await validateJsonl(chunks, { maxErrors: this.config.maxReportedErrors });
      if (result.errorCount > 0 || !result.format) {
        const first = result.errors[0];
        throw new ApiError(
          'unprocessable',
          `dataset has ${result.errorCount} invalid line(s)` + (first ? `; line ${first.line}: ${first.reason}` : ''),
          'file',
          { errors: result.errors, error_count: result.errorCount },
        );
      }
      await this.store.putFile(key, file.path);
      try {
        return await this.datasets.create({
          id,
          teamId,
          filename: file.originalName.slice(0, 255),
          bytes: BigInt(file.size),
          sha256: hash.digest('hex'),
          format: result.format,
          lines: result.lines,
          examples: result.examples,
          storageKey: key,
        });
      } catch (error) {
        await this.store.delete(key);
        throw error;
      }
    } finally {
      await rm(file.path, { force: true });
    }
  }

  async get(teamId: string, id: string): Promise<DatasetRecord> {
    const dataset = await this.datasets.findForTeam(teamId, id);
    if (!dataset) throw ApiError.notFound('file', id);
    return dataset;
  }

  list(teamId: string, after: string | undefined, limit: number): Promise<DatasetRecord[]> {
    return this.datasets.listForTeam(teamId, after, limit + 1);
  }

  async delete(teamId: string, id: string): Promise<void> {
    const dataset = await this.get(teamId, id);
    const outcome = await this.datasets.deleteUnlessInUse(dataset.id);
    if (outcome === 'missing') throw ApiError.notFound('file', id);
    if (outcome === 'in_use') throw new ApiError('conflict', `file '${id}' is used by an unfinished job`);
    await this.store.delete(dataset.storageKey);
  }
}

async function* hashing(chunks: AsyncIterable<Buffer>, hash: ReturnType<typeof createHash>): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    hash.update(chunk);
    yield chunk;
  }
}
