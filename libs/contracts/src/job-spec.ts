import { z } from 'zod';
import { PRIORITIES } from './priority';

/** Projections a LoRA adapter may wrap (Llama, Mistral and Qwen2 names). */
export const LORA_TARGET_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;

export const loraSchema = z
  .object({
    r: z.number().int().min(1).max(256).default(8),
    alpha: z.number().gt(0).max(4096).default(16),
    dropout: z.number().min(0).lt(1).default(0.05),
    target_modules: z
      .array(z.enum(LORA_TARGET_MODULES))
      .min(1)
      .refine((m) => new Set(m).size === m.length, 'must not repeat a module')
      .default(['q_proj', 'v_proj']),
    use_rslora: z.boolean().default(false),
  })
  .strict();

/** Stop training when `patience` evaluations in a row fail to improve the best validation loss by more than min_delta. */
export const earlyStoppingSchema = z
  .object({
    patience: z.number().int().min(1).max(1000),
    min_delta: z.number().min(0).finite().default(0),
  })
  .strict();

export type EarlyStopping = z.output<typeof earlyStoppingSchema>;

export const hyperparametersSchema = z
  .object({
    n_epochs: z.number().int().min(1).max(100).default(3),
    batch_size: z.number().int().min(1).max(1024).default(8),
    micro_batch_size: z.number().int().min(1).max(1024).optional(),
    learning_rate: z.number().gt(0).max(1).default(2e-4),
    lr_scheduler: z.enum(['constant', 'linear', 'cosine']).default('cosine'),
    warmup_steps: z.number().int().min(0).max(1_000_000).default(0),
    weight_decay: z.number().min(0).max(1).default(0),
    max_grad_norm: z.number().min(0).max(1e6).default(1),
    max_seq_len: z.number().int().min(16).max(131_072).default(2048),
    on_overlength: z.enum(['truncate', 'refuse']).default('truncate'),
    seed: z.number().int().min(0).max(2_147_483_647).default(42),
    lora: loraSchema.default({}),
    /** Optimizer steps between validation-loss evaluations; default: evalEverySteps (about 10 per job). */
    eval_every_steps: z.number().int().min(1).max(1_000_000).optional(),
    early_stopping: earlyStoppingSchema.optional(),
  })
  .strict()
  .transform((h, ctx) => {
    const micro = h.micro_batch_size ?? Math.min(h.batch_size, 4);
    if (micro > h.batch_size || h.batch_size % micro !== 0) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['micro_batch_size'],
        message: `must divide batch_size (${h.batch_size})`,
      });
      return z.NEVER;
    }
    return { ...h, micro_batch_size: micro };
  });

export type Hyperparameters = z.output<typeof hyperparametersSchema>;

const NODE_SELECTOR_MAX_KEYS = 16;
export const nodeSelectorSchema = z
  .record(z.string().min(1).max(253), z.string().max(63))
  .refine((m) => Object.keys(m).length <= NODE_SELECTOR_MAX_KEYS, `at most ${NODE_SELECTOR_MAX_KEYS} labels`);

const METADATA_MAX_KEYS = 16;
export const metadataSchema = z
  .record(z.string().min(1).max(64), z.string().max(512))
  .refine((m) => Object.keys(m).length <= METADATA_MAX_KEYS, `at most ${METADATA_MAX_KEYS} keys`);

export const createJobSchema = z
  .object({
    model: z.string().min(1).max(128),
    training_file: z.string().min(1).max(64),
    validation_file: z.string().min(1).max(64).optional(),
    hyperparameters: hyperparametersSchema.default({}),
    priority: z.enum(PRIORITIES).default('normal'),
    suffix: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,40}$/, 'must be 1-40 letters, digits, "-" or "_"')
      .optional(),
    metadata: metadataSchema.default({}),
    /** Node labels the job needs (every pair must match a node's label); see GET /v1/nodes. */
    node_selector: nodeSelectorSchema.default({}),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.validation_file !== undefined) return;
    for (const field of ['early_stopping', 'eval_every_steps'] as const) {
      if (spec.hyperparameters[field] === undefined) continue;
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['hyperparameters', field], message: 'needs a validation_file' });
    }
  });

export type CreateJobRequest = z.input<typeof createJobSchema>;
export type JobSpec = z.output<typeof createJobSchema>;

/** Steps between validation evaluations: the job's own, or about 10 evaluations per job, max(1, round(steps / 10)). */
export function evalEverySteps(hyperparameters: Pick<Hyperparameters, 'eval_every_steps'>, totalSteps: number): number {
  return hyperparameters.eval_every_steps ?? Math.max(1, Math.round(totalSteps / 10));
}
