import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { loadConfig } from '../config/app-config';

// There is no Docker engine in CI, so docker/ is checked statically: the compose structure, that every environment
// key is a real key of the app's typed config (read from the config loaders themselves), that what the Dockerfiles
// COPY exists and that their CMD runs a real entrypoint.
const ROOT = resolve(__dirname, '../../../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** A compose service as this file writes them (every field the checks read is asserted before use). */
interface Service {
  image: string;
  build: { context: string; dockerfile: string };
  command: string[];
  environment: Record<string, string | null>;
  depends_on: Record<string, { condition: string }>;
  healthcheck: { test: string[] };
  ports: string[];
  volumes: string[];
  deploy: { resources: { reservations: { devices: { driver: string; count: number; capabilities: string[] }[] } } };
}

function loadCompose(): { service: (name: string) => Service; names: string[]; volumes: Record<string, unknown> } {
  const doc = parseDocument(read('docker/compose.yaml'));
  expect(doc.errors).toEqual([]);
  expect(doc.warnings).toEqual([]);
  type Written = Omit<Service, 'environment' | 'volumes'> & Partial<Pick<Service, 'environment' | 'volumes'>>;
  const { services, volumes } = doc.toJS() as { services: Record<string, Written>; volumes: Record<string, unknown> };
  const service = (name: string): Service => {
    const found = services[name];
    if (!found) throw new Error(`docker/compose.yaml has no service ${name}`);
    return { ...found, environment: found.environment ?? {}, volumes: found.volumes ?? [] };
  };
  return { service, names: Object.keys(services), volumes };
}

/** The keys of a loader's zod `configSchema`, and which of them have neither a default nor `.optional()`. */
function configKeys(path: string): { all: Set<string>; required: Set<string> } {
  const source = read(path);
  const body = /const configSchema = z\.object\(\{\n([\s\S]*?)\n\}\);/.exec(source)?.[1];
  if (!body) throw new Error(`${path}: no configSchema = z.object({...}) found`);
  const all = new Set<string>();
  const required = new Set<string>();
  for (const [, key = '', rule = ''] of body.matchAll(/^ {2}([A-Z][A-Z0-9_]*): (.*)$/gm)) {
    all.add(key);
    if (!/\.default\(|\.optional\(\)/.test(rule)) required.add(key);
  }
  return { all, required };
}

interface Dockerfile {
  stages: string[];
  copies: { from: string | null; sources: string[] }[];
  env: Record<string, string>;
  healthcheck: string | null;
  cmd: string[];
}

function parseDockerfile(path: string): Dockerfile {
  const lines = read(path).replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const file: Dockerfile = { stages: [], copies: [], env: {}, healthcheck: null, cmd: [] };
  for (const line of lines) {
    const [instruction = '', ...words] = line.split(/\s+/);
    const rest = line.slice(instruction.length).trim();
    if (instruction === 'FROM') file.stages.push(rest);
    else if (instruction === 'COPY') {
      const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length) ?? null;
      const paths = words.filter((w) => !w.startsWith('--'));
      file.copies.push({ from, sources: paths.slice(0, -1) });
    } else if (instruction === 'ENV') {
      for (const [, key = '', value = ''] of rest.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(\S+)/g)) file.env[key] = value;
    } else if (instruction === 'HEALTHCHECK') file.healthcheck = rest;
    else if (instruction === 'CMD') file.cmd = JSON.parse(rest);
  }
  return file;
}

/** What compose hands the container: `${X:-default}` → default, other interpolations → a placeholder. */
function interpolate(value: string): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::-([^}]*))?(?::\?[^}]*)?\}/g, (_, _name: string, fallback?: string) => fallback ?? 'placeholder');
}

/** Variables the runtimes and tools read, not the apps' config. */
const NOT_APP_CONFIG = new Set(['NODE_ENV', 'CHECKPOINT_DISABLE']);

describe('docker/', () => {
  const compose = loadCompose();
  const { service } = compose;

  it('has Postgres 16 and Redis 7 with health checks and volumes, Redis durable and non-evicting', () => {
    expect([...compose.names].sort()).toEqual(['agent', 'control-plane', 'postgres', 'redis']);
    expect(service('postgres')).toMatchObject({ image: 'postgres:16', healthcheck: { test: expect.any(Array) } });
    expect(service('postgres').volumes).toContain('postgres-data:/var/lib/postgresql/data');
    const redis = service('redis');
    expect(redis).toMatchObject({ image: 'redis:7', healthcheck: { test: ['CMD', 'redis-cli', 'ping'] } });
    const flag = (name: string) => redis.command[redis.command.indexOf(name) + 1];
    expect([flag('--appendonly'), flag('--maxmemory-policy')]).toEqual(['yes', 'noeviction']);
    expect(redis.volumes).toContain('redis-data:/data');
    const named = compose.names.flatMap((n) => service(n).volumes).map((v) => v.split(':')[0] ?? '').filter((v) => !/^[.$/]/.test(v));
    expect(named.sort()).toEqual(Object.keys(compose.volumes).sort());
  });

  it('starts the control plane once Postgres and Redis are healthy, with its data dir on a volume', () => {
    const cp = service('control-plane');
    const { PORT: http, GROVE_GRPC_PORT: grpc, GROVE_DATA_DIR: dataDir } = cp.environment;
    expect(cp.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    expect(cp.volumes).toContain(`grove-data:${dataDir}`);
    expect(cp.ports).toEqual([`${http}:${http}`, `${grpc}:${grpc}`]);
  });

  it('gives the agent one NVIDIA GPU and points it at the control plane’s ports and Redis', () => {
    const agent = service('agent');
    const cp = service('control-plane').environment;
    expect(agent.deploy.resources.reservations.devices).toEqual([{ driver: 'nvidia', count: 1, capabilities: ['gpu'] }]);
    expect(agent.depends_on).toEqual({ 'control-plane': { condition: 'service_healthy' } });
    expect(agent.environment).toMatchObject({
      GROVE_GRPC_URL: `control-plane:${cp['GROVE_GRPC_PORT']}`,
      GROVE_API_URL: `http://control-plane:${cp['PORT']}`,
      GROVE_JOIN_TOKEN: null, // passed through from compose's environment, never written in a file
      REDIS_URL: cp['REDIS_URL'],
    });
    expect(agent.volumes).toContain(`agent-work:${agent.environment['GROVE_WORK_DIR']}`);
    expect(agent.volumes.some((v) => v.endsWith(`:${agent.environment['GROVE_MODELS_DIR']}:ro`))).toBe(true);
  });

  describe.each([
    ['control-plane', 'apps/control-plane/src/config/app-config.ts', 'apps/control-plane/src/main.ts'],
    ['agent', 'apps/agent/src/config/agent-config.ts', 'apps/agent/src/main.ts'],
  ])('%s', (name, configFile, entrypoint) => {
    const { build, environment } = service(name);
    const dockerfile = parseDockerfile(build.dockerfile);
    const keys = configKeys(configFile);

    it('sets only real config keys, and every required one', () => {
      const env = Object.keys(environment);
      const imageEnv = Object.keys(dockerfile.env).filter((k) => !NOT_APP_CONFIG.has(k));
      expect([...env, ...imageEnv].filter((k) => !keys.all.has(k))).toEqual([]);
      expect([...keys.required].filter((k) => !env.includes(k) && !imageEnv.includes(k))).toEqual([]);
    });

    it('builds from the repository root, copies only paths that exist and runs the app’s entrypoint', () => {
      expect(build.context).toBe('..');
      expect(existsSync(join(ROOT, build.dockerfile))).toBe(true);
      const sources = dockerfile.copies.filter((c) => c.from === null).flatMap((c) => c.sources);
      expect(sources.filter((s) => !existsSync(join(ROOT, s)))).toEqual([]);
      const [node, ...args] = dockerfile.cmd;
      expect(node).toBe('node');
      expect(args.slice(-3)).toEqual(['-r', '@swc-node/register', entrypoint]);
      expect(args.slice(0, -3).filter((a) => !a.startsWith('--'))).toEqual([]); // only V8/Node flags before it
      expect(existsSync(join(ROOT, entrypoint))).toBe(true);
      expect(dockerfile.stages.at(-1)).not.toMatch(/ AS /i); // the last stage is the image
    });
  });

  it('control plane: the image runs Node with the same flags as `make serve` and the latency benchmark', () => {
    const makefile = readFileSync(join(ROOT, 'Makefile'), 'utf8');
    const flags = /^CONTROL_PLANE_NODE_FLAGS := (.*)$/m.exec(makefile)?.[1].trim().split(/\s+/) ?? [];
    expect(flags.length).toBeGreaterThan(0);
    expect(parseDockerfile('docker/control-plane.Dockerfile').cmd.slice(1, 1 + flags.length)).toEqual(flags);
  });

  it('control plane: its compose environment passes the real config loader, and the image checks /healthz', () => {
    const env = Object.fromEntries(
      Object.entries(service('control-plane').environment).filter((e): e is [string, string] => e[1] !== null).map(([k, v]) => [k, interpolate(v)]),
    );
    expect(() => loadConfig(env)).not.toThrow();
    expect(loadConfig(env)).toMatchObject({ host: '0.0.0.0', grpc: { host: '0.0.0.0' } });
    expect(parseDockerfile('docker/control-plane.Dockerfile').healthcheck).toMatch(/\/healthz/);
  });

  it('agent: builds the engine on the CUDA devel image and runs on the matching runtime image', () => {
    const { stages, env } = parseDockerfile('docker/agent.Dockerfile');
    expect(stages[0]).toBe('nvidia/cuda:${CUDA_VERSION}-devel-ubuntu24.04 AS engine');
    expect(stages.at(-1)).toBe('nvidia/cuda:${CUDA_VERSION}-runtime-ubuntu24.04');
    expect(env['GROVE_ENGINE_BIN']).toBe('/opt/grove/bin/grove-engine');
  });

  it('keeps dependencies, local data and build outputs out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['.git', '**/node_modules', '.data', 'native-worker/build*']));
  });
});
