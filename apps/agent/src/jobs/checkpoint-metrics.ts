import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The engine keeps the loss log (`metrics.jsonl`) in the job's output folder, not in its checkpoint. A checkpoint
 * that travels to another node carries the log up to its step, so the resumed job's final log covers every step.
 */
const FILE = 'metrics.jsonl';

export async function addMetricsToCheckpoint(outputDir: string, checkpointCopy: string, step: number): Promise<void> {
  const text = await readFile(join(outputDir, FILE), 'utf8').catch(() => '');
  const lines = text.split('\n').filter((line) => line.trim() && (JSON.parse(line) as { step: number }).step <= step);
  await writeFile(join(checkpointCopy, FILE), lines.length ? `${lines.join('\n')}\n` : '');
}

/** Moves a downloaded checkpoint's log into the output folder, where the engine resumes appending to it. */
export async function restoreMetricsFromCheckpoint(checkpointDir: string, outputDir: string): Promise<void> {
  await mkdir(outputDir, { recursive: true });
  await rename(join(checkpointDir, FILE), join(outputDir, FILE)).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
}
