import { join } from 'node:path';

/** Where one attempt of a job lives in the agent's work folder. */
export interface JobPaths {
  /** Every attempt's files sit under here; removed when the attempt ends. */
  root: string;
  tokens: string;
  validationTokens: string;
  checkpointDir: string;
  outputDir: string;
}

/** Model names hold "/", which cannot be a folder name: `org/name` → `org--name` (docs/agent-protocol.md). */
export function modelFolderName(model: string): string {
  return model.replaceAll('/', '--');
}

export function jobPaths(workDir: string, jobId: string, attempt: number): JobPaths {
  const root = join(workDir, 'jobs', jobId, `attempt-${attempt}`);
  return { root, tokens: join(root, 'tokens.gtok'), validationTokens: join(root, 'validation.gtok'), checkpointDir: join(root, 'checkpoint'), outputDir: join(root, 'output') };
}
