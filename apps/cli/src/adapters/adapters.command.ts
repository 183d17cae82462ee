import type { Command } from 'commander';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { extract } from 'tar';
import { LocalError, NetworkError } from '../cli-errors';
import type { CliContext } from '../cli-context';
import { adapterTarget } from './adapter-target';

export function registerAdaptersCommands(program: Command, ctx: CliContext): void {
  const adapters = program.command('adapters').description('trained LoRA adapters');

  adapters
    .command('download')
    .description("download a succeeded job's PEFT adapter (adapter_config.json, adapter_model.safetensors, metrics.jsonl)")
    .argument('<job-id>', 'job id')
    .option('-o, --output <path>', 'folder to unpack into (default ./<job-id>-adapter), a .tar file to keep the archive, or - for stdout')
    .action(async (jobId: string, opts: { output?: string }, cmd: Command) => {
      const target = adapterTarget(opts.output, jobId);
      const { client, out } = await ctx.session(cmd);
      const res = await client.send('GET', `/v1/jobs/${encodeURIComponent(jobId)}/adapter`);
      const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
      if (target.kind === 'stdout') return save(body, process.stdout);
      if (target.kind === 'archive') {
        const partial = `${target.path}.partial`;
        await save(body, createWriteStream(partial)).catch(async (error) => {
          await rm(partial, { force: true });
          throw error;
        });
        await rename(partial, target.path);
        return out.result({ job_id: jobId, path: target.path }, () => `adapter of ${jobId} saved to ${target.path}`);
      }
      await mkdir(target.path, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
        throw new LocalError(`cannot create ${target.path}: ${error.code ?? error.message}`);
      });
      await save(body, extract({ cwd: target.path }));
      const files = (await readdir(target.path)).sort();
      out.result({ job_id: jobId, path: target.path, files }, () => `adapter of ${jobId} unpacked into ${target.path}/: ${files.join(', ')}`);
    });
}

/** Copies the download to its destination; a dropped connection is a network error, anything else a local one. */
async function save(body: Readable, destination: NodeJS.WritableStream): Promise<void> {
  let received = true;
  body.once('error', () => {
    received = false;
  });
  try {
    await pipeline(body, destination);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    if (!received) throw new NetworkError(`download interrupted: ${reason}`);
    throw new LocalError(`cannot write the adapter: ${reason}`);
  }
}
