import type { Command } from 'commander';
import { filePart, streamedForm } from '../api/file-upload';
import type { CliContext } from '../cli-context';
import { intBetween } from '../config/option-parsers';
import type { ListPage } from '../jobs/job';
import { formatBytes, formatTime } from '../output/format';
import { renderFields, renderTable } from '../output/table';
import { UploadProgress } from './upload-progress';

interface Dataset {
  id: string;
  filename: string;
  bytes: number;
  sha256: string;
  format: string;
  lines: number;
  examples: number;
  created_at: number;
}

const details = (d: Dataset) =>
  renderFields([
    ['id', d.id],
    ['filename', d.filename],
    ['format', d.format],
    ['examples', d.examples],
    ['lines', d.lines],
    ['size', formatBytes(d.bytes)],
    ['sha256', d.sha256],
    ['created', formatTime(d.created_at)],
  ]);

export function registerDatasetsCommands(program: Command, ctx: CliContext): void {
  const datasets = program.command('datasets').description('training datasets (JSONL files)');

  datasets
    .command('upload')
    .description('upload and validate a JSONL dataset (streamed from disk, progress bar on a terminal)')
    .argument('<file>', 'JSONL file')
    .option('--idempotency-key <key>', 'retry-safe upload: the same key and bytes return the same dataset')
    .action(async (path: string, opts: { idempotencyKey?: string }, cmd: Command) => {
      const part = await filePart('file', path);
      const { client, out } = await ctx.session(cmd);
      const progress = new UploadProgress(out, part.size, `uploading ${part.filename}`);
      let result;
      try {
        result = await client.request<Dataset>('POST', '/v1/files', { body: streamedForm([part], progress), idempotencyKey: opts.idempotencyKey });
      } finally {
        progress.stop();
      }
      const dataset = result.body;
      if (result.replayed) out.note(`${dataset.id} was already uploaded with this idempotency key; showing it`);
      out.result(dataset, () => details(dataset));
    });

  datasets
    .command('list')
    .description('list datasets, newest first')
    .option('--limit <n>', 'datasets per page (1-100)', intBetween(1, 100), 20)
    .option('--after <id>', 'the page after this dataset id')
    .action(async (opts: { limit: number; after?: string }, cmd: Command) => {
      const { client, out } = await ctx.session(cmd);
      const page = await client.get<ListPage<Dataset>>('/v1/files', { limit: opts.limit, after: opts.after });
      out.result(page, () =>
        page.data.length === 0
          ? 'No datasets.'
          : renderTable(
              ['ID', 'FILENAME', 'FORMAT', 'EXAMPLES', 'SIZE', 'CREATED'],
              page.data.map((d) => [d.id, d.filename, d.format, d.examples, formatBytes(d.bytes), formatTime(d.created_at)]),
            ),
      );
      if (page.has_more) out.note(`more: grove datasets list --after ${page.last_id}`);
    });

  datasets
    .command('get')
    .description('show a dataset')
    .argument('<id>', 'dataset id (file_…)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { client, out } = await ctx.session(cmd);
      const dataset = await client.get<Dataset>(`/v1/files/${encodeURIComponent(id)}`);
      out.result(dataset, () => details(dataset));
    });

  datasets
    .command('delete')
    .description('delete a dataset no unfinished job uses')
    .argument('<id>', 'dataset id (file_…)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { client, out } = await ctx.session(cmd);
      const { body } = await client.request<{ id: string }>('DELETE', `/v1/files/${encodeURIComponent(id)}`);
      out.result(body, () => `${id} deleted`);
    });
}
