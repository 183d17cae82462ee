import { Inject, Injectable } from '@nestjs/common';
import { DatasetError, DatasetTokenizer } from '@grove/datasets';
import { readFile, rm } from 'node:fs/promises';
import type { Actor } from '../audit/audit-event';
import { AuditRepository } from '../audit/audit.repository';
import { ApiError } from '../common/api-error';
import { newId } from '../common/ids';
import { ARTIFACT_STORE, type ArtifactStore } from '../storage/artifact-store';
import { ModelConfigError, summariseModelConfig, tokenizerVocabularySize } from './model-config';
import { ModelNameTakenError, ModelsRepository, type BaseModelRecord } from './models.repository';

export interface ModelUpload {
  name: string;
  configPath: string;
  tokenizerPath: string;
  tokenizerConfigPath: string;
}

const CACHE_TTL_MS = 5_000;

@Injectable()
export class ModelsService {
  private readonly cache = new Map<string, { model: BaseModelRecord; until: number }>();

  constructor(
    private readonly models: ModelsRepository,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    private readonly audit: AuditRepository,
  ) {}

  /** Registers a base model from its HF config.json, tokenizer.json and tokenizer_config.json. */
  async register(upload: ModelUpload, actor: Actor): Promise<BaseModelRecord> {
    const paths = [upload.configPath, upload.tokenizerPath, upload.tokenizerConfigPath];
    try {
      const config = await parseJsonFile(upload.configPath, 'config');
      const tokenizerJson = await parseJsonFile(upload.tokenizerPath, 'tokenizer');
      const tokenizerConfig = await parseJsonFile(upload.tokenizerConfigPath, 'tokenizer_config');
      const summary = summarise(config);
      checkTokenizer(tokenizerJson, tokenizerConfig, summary.vocabSize);
      const id = newId('model');
      const keys = {
        configKey: `models/${id}/config.json`,
        tokenizerKey: `models/${id}/tokenizer.json`,
        tokenizerCfgKey: `models/${id}/tokenizer_config.json`,
      };
      await this.store.putFile(keys.configKey, upload.configPath);
      await this.store.putFile(keys.tokenizerKey, upload.tokenizerPath);
      await this.store.putFile(keys.tokenizerCfgKey, upload.tokenizerConfigPath);
      try {
        const model = await this.models.create({
          id, name: upload.name, architecture: summary.architecture, modelType: summary.modelType, config, summary, ...keys,
        });
        await this.audit.record(actor, { action: 'model.register', targetType: 'model', targetId: id, data: { name: upload.name } });
        return model;
      } catch (error) {
        await Promise.all(Object.values(keys).map((k) => this.store.delete(k)));
        if (error instanceof ModelNameTakenError) throw new ApiError('conflict', `model '${upload.name}' already exists`, 'name');
        throw error;
      }
    } finally {
      await Promise.all(paths.map((p) => rm(p, { force: true })));
    }
  }

  /** A model by id or name; 404 names the request field that referenced it. */
  async resolve(idOrName: string, param: string | null = null): Promise<BaseModelRecord> {
    const cached = this.cache.get(idOrName);
    if (cached && cached.until > Date.now()) return cached.model;
    const model = await this.models.findByIdOrName(idOrName);
    if (!model) throw ApiError.notFound('model', idOrName, param);
    this.cache.set(idOrName, { model, until: Date.now() + CACHE_TTL_MS });
    return model;
  }

  list(after: string | undefined, limit: number): Promise<BaseModelRecord[]> {
    return this.models.list(after, limit + 1);
  }
}

async function parseJsonFile(path: string, field: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ApiError('invalid_request', `${field}: not valid JSON (${(error as Error).message})`, field);
  }
}

function summarise(config: unknown) {
  try {
    return summariseModelConfig(config);
  } catch (error) {
    if (error instanceof ModelConfigError) throw new ApiError('unprocessable', error.message, error.field);
    throw error;
  }
}

function checkTokenizer(tokenizerJson: unknown, tokenizerConfig: unknown, vocabSize: number): void {
  try {
    DatasetTokenizer.load({ tokenizerJson, tokenizerConfig });
    const tokens = tokenizerVocabularySize(tokenizerJson);
    if (tokens > vocabSize) {
      throw new ApiError('unprocessable', `tokenizer has ${tokens} tokens but config.json vocab_size is ${vocabSize}`, 'tokenizer');
    }
  } catch (error) {
    if (error instanceof DatasetError) throw new ApiError('unprocessable', error.message, 'tokenizer');
    throw error;
  }
}
