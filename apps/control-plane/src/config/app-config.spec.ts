import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './app-config';

const required = { DATABASE_URL: 'postgresql://u@127.0.0.1:5432/db', REDIS_URL: 'redis://127.0.0.1:6379' };

describe(loadConfig.name, () => {
  it('types and defaults the environment', () => {
    expect(loadConfig({ ...required, PORT: '9000' })).toMatchObject({ port: 9000, host: '127.0.0.1', maxUploadBytes: 512 * 1024 * 1024, runValidationWorker: true });
  });

  it('names every bad variable', () => {
    expect(() => loadConfig({ REDIS_URL: 'nope', PORT: '-1' })).toThrow(ConfigError);
    expect(() => loadConfig({ REDIS_URL: 'nope', PORT: '-1' })).toThrow(/DATABASE_URL.*REDIS_URL.*PORT|DATABASE_URL/);
  });
});
