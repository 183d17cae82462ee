import { describe, expect, it } from 'vitest';
import { createJobSchema, evalEverySteps, hyperparametersSchema } from './job-spec';

describe('createJobSchema', () => {
  it('fills the documented defaults', () => {
    const spec = createJobSchema.parse({ model: 'm', training_file: 'f' });
    expect(spec).toEqual({
      model: 'm',
      training_file: 'f',
      priority: 'normal',
      metadata: {},
      node_selector: {},
      hyperparameters: {
        n_epochs: 3, batch_size: 8, micro_batch_size: 4, learning_rate: 2e-4, lr_scheduler: 'cosine', warmup_steps: 0,
        weight_decay: 0, max_grad_norm: 1, max_seq_len: 2048, on_overlength: 'truncate', seed: 42,
        lora: { r: 8, alpha: 16, dropout: 0.05, target_modules: ['q_proj', 'v_proj'], use_rslora: false },
      },
    });
  });

  it('defaults micro_batch_size to the batch when the batch is small', () => {
    expect(hyperparametersSchema.parse({ batch_size: 2 }).micro_batch_size).toBe(2);
  });

  it.each([
    [{ lora: { r: 257 } }, ['lora', 'r']],
    [{ lora: { dropout: 1 } }, ['lora', 'dropout']],
    [{ lora: { target_modules: [] } }, ['lora', 'target_modules']],
    [{ lora: { target_modules: ['q_proj', 'q_proj'] } }, ['lora', 'target_modules']],
    [{ learning_rate: -1 }, ['learning_rate']],
    [{ max_seq_len: 8 }, ['max_seq_len']],
    [{ seed: 1.5 }, ['seed']],
    [{ batch_size: 6, micro_batch_size: 4 }, ['micro_batch_size']],
  ])('rejects %j at %j', (hyperparameters, path) => {
    const result = hyperparametersSchema.safeParse(hyperparameters);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(path);
  });

  it('takes early stopping and an evaluation interval with a validation file, filling min_delta', () => {
    const spec = createJobSchema.parse({
      model: 'm', training_file: 'f', validation_file: 'v', hyperparameters: { eval_every_steps: 5, early_stopping: { patience: 3 } },
    });
    expect(spec.hyperparameters).toMatchObject({ eval_every_steps: 5, early_stopping: { patience: 3, min_delta: 0 } });
    expect(createJobSchema.parse({ model: 'm', training_file: 'f' }).hyperparameters).not.toHaveProperty('early_stopping');
  });

  it.each([
    [{ early_stopping: { patience: 2 } }, ['hyperparameters', 'early_stopping']],
    [{ eval_every_steps: 4 }, ['hyperparameters', 'eval_every_steps']],
  ])('refuses %j without a validation file, naming the field', (hyperparameters, path) => {
    const result = createJobSchema.safeParse({ model: 'm', training_file: 'f', hyperparameters });
    expect(result.error?.issues[0]).toMatchObject({ path, message: 'needs a validation_file' });
  });

  it.each([
    [{ early_stopping: { patience: 0 } }, ['early_stopping', 'patience']],
    [{ early_stopping: { patience: 1001 } }, ['early_stopping', 'patience']],
    [{ early_stopping: { patience: 2, min_delta: -0.1 } }, ['early_stopping', 'min_delta']],
    [{ early_stopping: { patience: 2, extra: 1 } }, ['early_stopping']],
    [{ eval_every_steps: 0 }, ['eval_every_steps']],
    [{ eval_every_steps: 2.5 }, ['eval_every_steps']],
  ])('rejects the bad validation setting %j at %j', (hyperparameters, path) => {
    expect(hyperparametersSchema.safeParse(hyperparameters).error?.issues[0]?.path).toEqual(path);
  });

  it('rejects unknown fields, bad suffixes and oversized metadata', () => {
    expect(createJobSchema.safeParse({ model: 'm', training_file: 'f', extra: 1 }).success).toBe(false);
    expect(createJobSchema.safeParse({ model: 'm', training_file: 'f', suffix: 'has space' }).success).toBe(false);
    expect(createJobSchema.safeParse({ model: 'm', training_file: 'f', metadata: { k: 'v'.repeat(513) } }).success).toBe(false);
  });
});

describe(evalEverySteps.name, () => {
  it('defaults to about 10 evaluations per job, at least every step', () => {
    expect([1, 4, 15, 25, 100, 1234].map((steps) => evalEverySteps({}, steps))).toEqual([1, 1, 2, 3, 10, 123]);
  });

  it("uses the job's own interval", () => {
    expect(evalEverySteps({ eval_every_steps: 7 }, 100)).toBe(7);
  });
});
