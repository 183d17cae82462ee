import { z } from 'zod';

const configSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  DATABASE_URL: z.string().url(),
  REDIS_URL: z.string().url(),
  GROVE_DATA_DIR: z.string().default('.data/artifacts'),
  GROVE_MAX_UPLOAD_BYTES: z.coerce.number().int().min(1).default(512 * 1024 * 1024),
  GROVE_MAX_REPORTED_ERRORS: z.coerce.number().int().min(1).max(1000).default(20),
  GROVE_VALIDATION_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  GROVE_VALIDATION_WORKER: z.enum(['true', 'false']).default('true'),
  GROVE_DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(20),
  GROVE_GRPC_ENABLED: z.enum(['true', 'false']).default('true'),
  GROVE_GRPC_HOST: z.string().default('127.0.0.1'),
  GROVE_GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(8081),
  GROVE_GRPC_TLS_CERT: z.string().optional(),
  GROVE_GRPC_TLS_KEY: z.string().optional(),
  GROVE_HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  GROVE_NODE_GRACE_MS: z.coerce.number().int().min(200).max(3_600_000).default(20_000),
  GROVE_DISPATCH_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  GROVE_DISPATCH_RESEND_MS: z.coerce.number().int().min(100).max(3_600_000).default(15_000),
  GROVE_MAX_FAILED_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(3),
  GROVE_CHECKPOINT_EVERY: z.coerce.number().int().min(0).max(1_000_000).default(20),
  GROVE_SCHED_AGING_BOUND_S: z.coerce.number().int().min(60).max(30 * 86_400).default(4 * 3600),
  GROVE_SCHED_MIN_RUN_BEFORE_PREEMPT_S: z.coerce.number().int().min(0).max(86_400).default(600),
  GROVE_SCHED_MAX_PREEMPTIONS_PER_JOB: z.coerce.number().int().min(0).max(100).default(2),
  GROVE_SCHED_MAX_WAITING: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  GROVE_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  GROVE_WEBHOOK_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
  GROVE_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  GROVE_WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  GROVE_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
  GROVE_WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).max(86_400_000).default(60_000),
  GROVE_WEBHOOK_RETRY_MAX_MS: z.coerce.number().int().min(10).max(7 * 86_400_000).default(3_600_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** Typed configuration, read from the environment once at boot. */
export interface AppConfig {
  host: string;
  port: number;
  databaseUrl: string;
  redisUrl: string;
  dataDir: string;
  maxUploadBytes: number;
  maxReportedErrors: number;
  validationConcurrency: number;
  /** Whether this process also runs the validation stage (off for API-only replicas). */
  runValidationWorker: boolean;
  dbPoolSize: number;
  /** The agents' gRPC endpoint; off for API-only replicas and one-off CLI contexts. */
  grpc: { enabled: boolean; host: string; port: number; tls: { certPath: string; keyPath: string } | null };
  /** How often agents heartbeat, and how long a silent node stays online. */
  heartbeatIntervalMs: number;
  nodeGraceMs: number;
  dispatch: {
    /** How often queued jobs are placed. */
    intervalMs: number;
    /** A start message not acted on after this long is sent again (duplicates collapse). */
    resendAfterMs: number;
    /** Failed attempts (engine crashes) before a job fails; OOM requeues and preemptions do not count. */
    maxFailedAttempts: number;
    /** Optimizer steps between the checkpoints agents upload. */
    checkpointEvery: number;
  };
  /** The scheduling policy (libs/scheduler GrovePolicy). */
  scheduler: {
    /** No job waits longer than this in one stretch (it outranks every priority from half of it). */
    agingBoundSeconds: number;
    /** Churn limits: a run is never preempted before it lasted this long, nor a job more than this many times. */
    minRunSecondsBeforePreemption: number;
    maxPreemptionsPerJob: number;
    /** Waiting jobs one round considers (in priority, then wait order). */
    maxWaitingPerRound: number;
  };
  /** Bearer token GET /metrics requires; null = open (keep it off the public network then). */
  metricsToken: string | null;
  webhooks: {
    /** How often the fan-out and the sender look for work when no job event wakes them. */
    pollIntervalMs: number;
    /** Per delivery attempt, answer included. */
    timeoutMs: number;
    /** Attempts in flight per process. */
    concurrency: number;
    /** Attempts in all, then the delivery is failed; waits double from the base (±20 % jitter) up to the max. */
    retry: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number };
  };
  logLevel: z.infer<typeof configSchema>['LOG_LEVEL'];
}

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const c = parsed.data;
  if (Boolean(c.GROVE_GRPC_TLS_CERT) !== Boolean(c.GROVE_GRPC_TLS_KEY)) {
    throw new ConfigError('invalid configuration: GROVE_GRPC_TLS_CERT and GROVE_GRPC_TLS_KEY must be set together');
  }
  return {
    host: c.HOST,
    port: c.PORT,
    databaseUrl: c.DATABASE_URL,
    redisUrl: c.REDIS_URL,
    dataDir: c.GROVE_DATA_DIR,
    maxUploadBytes: c.GROVE_MAX_UPLOAD_BYTES,
    maxReportedErrors: c.GROVE_MAX_REPORTED_ERRORS,
    validationConcurrency: c.GROVE_VALIDATION_CONCURRENCY,
    runValidationWorker: c.GROVE_VALIDATION_WORKER === 'true',
    dbPoolSize: c.GROVE_DB_POOL_SIZE,
    grpc: {
      enabled: c.GROVE_GRPC_ENABLED === 'true',
      host: c.GROVE_GRPC_HOST,
      port: c.GROVE_GRPC_PORT,
      tls: c.GROVE_GRPC_TLS_CERT && c.GROVE_GRPC_TLS_KEY ? { certPath: c.GROVE_GRPC_TLS_CERT, keyPath: c.GROVE_GRPC_TLS_KEY } : null,
    },
    heartbeatIntervalMs: c.GROVE_HEARTBEAT_INTERVAL_MS,
    nodeGraceMs: c.GROVE_NODE_GRACE_MS,
    dispatch: {
      intervalMs: c.GROVE_DISPATCH_INTERVAL_MS,
      resendAfterMs: c.GROVE_DISPATCH_RESEND_MS,
      maxFailedAttempts: c.GROVE_MAX_FAILED_ATTEMPTS,
      checkpointEvery: c.GROVE_CHECKPOINT_EVERY,
    },
    scheduler: {
      agingBoundSeconds: c.GROVE_SCHED_AGING_BOUND_S,
      minRunSecondsBeforePreemption: c.GROVE_SCHED_MIN_RUN_BEFORE_PREEMPT_S,
      maxPreemptionsPerJob: c.GROVE_SCHED_MAX_PREEMPTIONS_PER_JOB,
      maxWaitingPerRound: c.GROVE_SCHED_MAX_WAITING,
    },
    metricsToken: c.GROVE_METRICS_TOKEN ?? null,
    webhooks: {
      pollIntervalMs: c.GROVE_WEBHOOK_POLL_MS,
      timeoutMs: c.GROVE_WEBHOOK_TIMEOUT_MS,
      concurrency: c.GROVE_WEBHOOK_CONCURRENCY,
      retry: { maxAttempts: c.GROVE_WEBHOOK_MAX_ATTEMPTS, baseDelayMs: c.GROVE_WEBHOOK_RETRY_BASE_MS, maxDelayMs: c.GROVE_WEBHOOK_RETRY_MAX_MS },
    },
    logLevel: c.LOG_LEVEL,
  };
}

export const APP_CONFIG = Symbol('APP_CONFIG');
