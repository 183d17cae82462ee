import { evalEverySteps } from '@grove/contracts';
import type { EngineJob } from '../engine/engine-job';
import type { Assignment } from './assignment';
import type { JobPaths } from './job-paths';

/** The engine job object for an assignment (docs/agent-protocol.md, "Engine job object the agent builds"). */
export function buildEngineJob(assignment: Assignment, paths: JobPaths, defaultCheckpointEvery: number): EngineJob {
  const h = assignment.hyperparameters;
  return {
    id: assignment.jobId,
    tokens: paths.tokens,
    lora: { r: h.lora.r, alpha: h.lora.alpha, dropout: h.lora.dropout, target_modules: [...h.lora.target_modules], use_rslora: h.lora.use_rslora },
    optimizer: { lr: h.learning_rate, weight_decay: h.weight_decay, max_grad_norm: h.max_grad_norm },
    schedule: { type: h.lr_scheduler, warmup_steps: h.warmup_steps },
    steps: assignment.totalSteps,
    micro_batch_size: h.micro_batch_size,
    grad_accum: h.batch_size / h.micro_batch_size,
    shuffle: true,
    seed: h.seed,
    output_dir: paths.outputDir,
    checkpoint_dir: paths.checkpointDir,
    checkpoint_every: assignment.checkpointEvery ?? defaultCheckpointEvery,
    ...(assignment.validationTokenFileUrl === null ? {} : { validation: validationOf(assignment, paths) }),
  };
}

/** The validation set the agent downloaded, its evaluation interval and early-stopping rule (native-worker/docs/spec.md). */
function validationOf(assignment: Assignment, paths: JobPaths): NonNullable<EngineJob['validation']> {
  const h = assignment.hyperparameters;
  return {
    tokens: paths.validationTokens,
    eval_every: evalEverySteps(h, assignment.totalSteps),
    ...(h.early_stopping ? { early_stopping: { patience: h.early_stopping.patience, min_delta: h.early_stopping.min_delta } } : {}),
  };
}
