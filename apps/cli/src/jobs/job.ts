import type { JobStatus } from '@grove/contracts';

/** The fields of the API's `fine_tuning.job` the CLI shows (the JSON output passes the rest through untouched). */
export interface Job {
  id: string;
  status: JobStatus;
  model: string;
  training_file: string;
  validation_file: string | null;
  suffix: string | null;
  priority: string;
  hyperparameters: Record<string, unknown>;
  metadata: Record<string, string>;
  error: { code?: string; message?: string; details?: unknown } | null;
  trained_tokens: number | null;
  total_steps: number | null;
  attempt: number;
  preemptions?: number;
  node_id: string | null;
  result_files: string[];
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  /** Scheduling fields, present once the control plane's scheduler reports them. */
  wait_reason?: { code: string; message: string } | null;
  estimated_start_at?: number | null;
  estimated_finish_at?: number | null;
  node_selector?: Record<string, string> | null;
}

export interface ListPage<T> {
  object: 'list';
  data: T[];
  has_more?: boolean;
  last_id?: string | null;
}
