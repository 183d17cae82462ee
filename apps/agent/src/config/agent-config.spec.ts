import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { AgentConfigError, loadAgentConfig, parseLabels } from './agent-config';

const required = {
  GROVE_GRPC_URL: '127.0.0.1:8081',
  GROVE_API_URL: 'http://127.0.0.1:8080/',
  GROVE_JOIN_TOKEN: 'grove_join_secret',
  REDIS_URL: 'redis://127.0.0.1:6379',
  GROVE_MODELS_DIR: '/models',
  GROVE_WORK_DIR: '/work',
};

describe(loadAgentConfig.name, () => {
  it('types and defaults the environment', () => {
    const sut = loadAgentConfig({ ...required, GROVE_CPU_SLOTS: '2', GROVE_LABELS: 'pool=cpu, zone = a' });
    expect(sut).toMatchObject({
      grpc: { address: '127.0.0.1:8081', tlsCaPath: null },
      apiUrl: 'http://127.0.0.1:8080',
      nodeName: hostname(),
      backend: 'cpu',
      cpuSlots: { count: 2, memoryBytes: 8 * 2 ** 30 },
      engine: { threads: 1 },
      defaultCheckpointEvery: 20,
      labels: { pool: 'cpu', zone: 'a' },
    });
    expect(sut.engine.bin).toMatch(/native-worker\/build\/grove-engine$/);
  });

  it('names every bad variable', () => {
    const bad = () => loadAgentConfig({ ...required, GROVE_GRPC_URL: 'http://x', GROVE_BACKEND: 'tpu', GROVE_JOIN_TOKEN: undefined });
    expect(bad).toThrow(AgentConfigError);
    expect(bad).toThrow(/GROVE_GRPC_URL: must be host:port/);
    expect(bad).toThrow(/GROVE_JOIN_TOKEN/);
    expect(bad).toThrow(/GROVE_BACKEND/);
  });

  it('never puts the join token in an error', () => {
    expect(() => loadAgentConfig({ ...required, GROVE_JOIN_TOKEN: 'grove_join_secret', GROVE_CPU_SLOTS: '0' })).toThrow(/^((?!grove_join_secret).)*$/);
  });
});

describe(parseLabels.name, () => {
  it('reads key=value pairs and allows none', () => {
    expect(parseLabels('')).toEqual({});
    expect(parseLabels('a=1,b=x=y')).toEqual({ a: '1', b: 'x=y' });
  });

  it('refuses a pair without a key or a repeated key', () => {
    expect(() => parseLabels('novalue')).toThrow(/"novalue" is not key=value/);
    expect(() => parseLabels('a=1,a=2')).toThrow(/"a" is repeated/);
  });
});
