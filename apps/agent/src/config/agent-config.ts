import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const configSchema = z.object({
  GROVE_GRPC_URL: z.string().regex(/^[^\s/]+:\d+$/, 'must be host:port, e.g. 127.0.0.1:8081'),
  GROVE_GRPC_TLS_CA: z.string().min(1).optional(),
  GROVE_API_URL: z.string().url(),
  GROVE_JOIN_TOKEN: z.string().min(1, 'must not be empty'),
  REDIS_URL: z.string().url(),
  GROVE_NODE_NAME: z.string().min(1).max(128).optional(),
  GROVE_MODELS_DIR: z.string().min(1),
  GROVE_WORK_DIR: z.string().min(1),
  GROVE_ENGINE_BIN: z.string().min(1).default('native-worker/build/grove-engine'),
  GROVE_ENGINE_THREADS: z.coerce.number().int().min(1).max(1024).default(1),
  GROVE_BACKEND: z.enum(['cpu', 'cuda']).default('cpu'),
  GROVE_CPU_SLOTS: z.coerce.number().int().min(1).max(256).default(1),
  GROVE_CPU_SLOT_MEMORY_BYTES: z.coerce.number().int().min(1).default(8 * 2 ** 30),
  GROVE_CHECKPOINT_EVERY: z.coerce.number().int().min(0).max(1_000_000).default(20),
  GROVE_LABELS: z.string().default(''),
  LOG_LEVEL: z.enum(LEVELS).default('info'),
});

/** Typed agent configuration, read from the environment once at start. */
export interface AgentConfig {
  grpc: { address: string; tlsCaPath: string | null };
  apiUrl: string;
  /** Secret: sent as a bearer token, never logged. */
  joinToken: string;
  redisUrl: string;
  nodeName: string;
  modelsDir: string;
  workDir: string;
  engine: { bin: string; threads: number };
  backend: 'cpu' | 'cuda';
  /** A CPU node offers this many slots, each with this memory budget (ignored on CUDA nodes). */
  cpuSlots: { count: number; memoryBytes: number };
  /** Used when an assignment carries no checkpoint interval of its own. */
  defaultCheckpointEvery: number;
  labels: Record<string, string>;
  logLevel: (typeof LEVELS)[number];
}

export class AgentConfigError extends Error {
  readonly code = 'invalid_agent_config';
}

/** `k=v,k2=v2` → `{k: 'v', k2: 'v2'}`; an empty string is no labels. */
export function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const key = eq > 0 ? part.slice(0, eq).trim() : '';
    if (!key) throw new AgentConfigError(`invalid configuration: GROVE_LABELS: "${part}" is not key=value`);
    if (key in labels) throw new AgentConfigError(`invalid configuration: GROVE_LABELS: label "${key}" is repeated`);
    labels[key] = part.slice(eq + 1).trim();
  }
  return labels;
}

export function loadAgentConfig(env: Record<string, string | undefined>): AgentConfig {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new AgentConfigError(`invalid configuration: ${problems}`);
  }
  const c = parsed.data;
  return {
    grpc: { address: c.GROVE_GRPC_URL, tlsCaPath: c.GROVE_GRPC_TLS_CA ?? null },
    apiUrl: c.GROVE_API_URL.replace(/\/+$/, ''),
    joinToken: c.GROVE_JOIN_TOKEN,
    redisUrl: c.REDIS_URL,
    nodeName: c.GROVE_NODE_NAME ?? hostname(),
    modelsDir: resolve(c.GROVE_MODELS_DIR),
    workDir: resolve(c.GROVE_WORK_DIR),
    engine: { bin: resolve(c.GROVE_ENGINE_BIN), threads: c.GROVE_ENGINE_THREADS },
    backend: c.GROVE_BACKEND,
    cpuSlots: { count: c.GROVE_CPU_SLOTS, memoryBytes: c.GROVE_CPU_SLOT_MEMORY_BYTES },
    defaultCheckpointEvery: c.GROVE_CHECKPOINT_EVERY,
    labels: parseLabels(c.GROVE_LABELS),
    logLevel: c.LOG_LEVEL,
  };
}
