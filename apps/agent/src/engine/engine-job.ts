/** The job object `add_job` takes (native-worker/docs/spec.md, "Job"). */
export interface EngineJob {
  id: string;
  tokens: string;
  lora: { r: number; alpha: number; dropout: number; target_modules: string[]; use_rslora: boolean };
  optimizer: { lr: number; weight_decay: number; max_grad_norm: number };
  schedule: { type: 'constant' | 'linear' | 'cosine'; warmup_steps: number };
  steps: number;
  micro_batch_size: number;
  grad_accum: number;
  shuffle: boolean;
  seed: number;
  output_dir: string;
  checkpoint_dir: string;
  checkpoint_every: number;
  validation?: { tokens: string; eval_every: number; early_stopping?: { patience: number; min_delta: number } };
}
