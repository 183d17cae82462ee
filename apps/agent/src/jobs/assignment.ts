import { hyperparametersSchema, type Hyperparameters } from '@grove/contracts';
import { z } from 'zod';

/** `GET /v1/agent/assignments/{job_id}` (docs/agent-protocol.md), camel-cased, hyperparameters with their defaults. */
export interface Assignment {
  jobId: string;
  attempt: number;
  nodeId: string;
  gpuIndex: number;
  model: string;
  totalSteps: number;
  /** Null when the job leaves it to the agent's default. */
  checkpointEvery: number | null;
  hyperparameters: Hyperparameters;
  tokenFileUrl: string;
  /** Null when the job has no validation set. */
  validationTokenFileUrl: string | null;
  checkpoint: { step: number; url: string } | null;
}

const assignmentSchema = z.object({
  job_id: z.string().min(1),
  attempt: z.number().int().min(1),
  node_id: z.string().min(1),
  gpu_index: z.number().int().min(0),
  model: z.string().min(1),
  total_steps: z.number().int().min(1),
  checkpoint_every: z.number().int().min(0).nullable().optional(),
  hyperparameters: hyperparametersSchema,
  token_file_url: z.string().min(1),
  validation_token_file_url: z.string().min(1).nullable().optional(),
  checkpoint: z.object({ step: z.number().int().min(0), url: z.string().min(1) }).nullable(),
});

export class AssignmentFormatError extends Error {
  readonly code = 'bad_assignment';
}

export function parseAssignment(body: unknown): Assignment {
  const parsed = assignmentSchema.safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new AssignmentFormatError(`the control plane sent an assignment the agent cannot use: ${problems}`);
  }
  const a = parsed.data;
  return {
    jobId: a.job_id,
    attempt: a.attempt,
    nodeId: a.node_id,
    gpuIndex: a.gpu_index,
    model: a.model,
    totalSteps: a.total_steps,
    checkpointEvery: a.checkpoint_every ?? null,
    hyperparameters: a.hyperparameters,
    tokenFileUrl: a.token_file_url,
    validationTokenFileUrl: a.validation_token_file_url ?? null,
    checkpoint: a.checkpoint,
  };
}
