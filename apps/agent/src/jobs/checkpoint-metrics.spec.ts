import { mkdtemp, readFile, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addMetricsToCheckpoint, restoreMetricsFromCheckpoint } from './checkpoint-metrics';

describe('checkpoint metrics', () => {
  it('carries the loss log up to the checkpoint step, and puts it back in the output folder on resume', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ckpt-metrics-'));
    const output = join(dir, 'output');
    const checkpoint = join(dir, 'checkpoint');
    await mkdir(output);
    await mkdir(checkpoint);
    await writeFile(join(output, 'metrics.jsonl'), [1, 2, 3, 4].map((step) => JSON.stringify({ step, loss: 5 - step })).join('\n') + '\n');
    await addMetricsToCheckpoint(output, checkpoint, 3);
    const carried = (await readFile(join(checkpoint, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l).step);
    expect(carried).toEqual([1, 2, 3]);

    const resumedOutput = join(dir, 'resumed-output');
    await restoreMetricsFromCheckpoint(checkpoint, resumedOutput);
    expect(await readFile(join(resumedOutput, 'metrics.jsonl'), 'utf8')).toBe(await readFile(join(output, 'metrics.jsonl'), 'utf8').then((t) => t.split('\n').slice(0, 3).join('\n') + '\n'));
  });

  it('restoring from a checkpoint without a log is a no-op', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ckpt-metrics-'));
    await mkdir(join(dir, 'checkpoint'));
    await expect(restoreMetricsFromCheckpoint(join(dir, 'checkpoint'), join(dir, 'out'))).resolves.toBeUndefined();
  });
});
