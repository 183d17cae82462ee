import type { Command } from 'commander';
import { filePart, streamedForm } from '../api/file-upload';
import type { CliContext } from '../cli-context';
import { intBetween } from '../config/option-parsers';
import type { ListPage } from '../jobs/job';
import { formatTime } from '../output/format';
import { renderFields, renderTable } from '../output/table';

interface Model {
  id: string;
  name: string;
  architecture: string;
  layers: number;
  hidden_size: number;
  attention_heads: number;
  kv_heads: number;
  vocab_size: number;
  max_position_embeddings: number;
  parameters: number;
  dtype: string;
  created_at: number;
}

const details = (m: Model) =>
  renderFields([
    ['id', m.id],
    ['name', m.name],
    ['architecture', m.architecture],
    ['parameters', m.parameters?.toLocaleString('en-US')],
    ['layers', m.layers],
    ['hidden size', m.hidden_size],
    ['heads', m.attention_heads === undefined ? null : `${m.attention_heads} (kv ${m.kv_heads})`],
    ['vocabulary', m.vocab_size],
    ['max positions', m.max_position_embeddings],
    ['dtype', m.dtype],
    ['created', formatTime(m.created_at)],
  ]);

export function registerModelsCommands(program: Command, ctx: CliContext): void {
  const models = program.command('models').description('base models (operators register them)');

  models
    .command('register')
    .description('register a base model from its Hugging Face files')
    .requiredOption('--name <name>', 'model name, e.g. meta-llama/Llama-3-8B')
    .requiredOption('--config <path>', 'config.json')
    .requiredOption('--tokenizer <path>', 'tokenizer.json')
    .requiredOption('--tokenizer-config <path>', 'tokenizer_config.json')
    .option('--idempotency-key <key>', 'retry-safe registration')
    .action(async (opts: { name: string; config: string; tokenizer: string; tokenizerConfig: string; idempotencyKey?: string }, cmd: Command) => {
      const parts = [
        { kind: 'field' as const, name: 'name', value: opts.name },
        await filePart('config', opts.config),
        await filePart('tokenizer', opts.tokenizer),
        await filePart('tokenizer_config', opts.tokenizerConfig),
      ];
      const { client, out } = await ctx.session(cmd);
      const { body: model } = await client.request<Model>('POST', '/v1/models', { body: streamedForm(parts), idempotencyKey: opts.idempotencyKey });
      out.result(model, () => details(model));
    });

  models
    .command('list')
    .description('list base models')
    .option('--limit <n>', 'models per page (1-100)', intBetween(1, 100), 20)
    .option('--after <id>', 'the page after this model id')
    .action(async (opts: { limit: number; after?: string }, cmd: Command) => {
      const { client, out } = await ctx.session(cmd);
      const page = await client.get<ListPage<Model>>('/v1/models', { limit: opts.limit, after: opts.after });
      out.result(page, () =>
        page.data.length === 0
          ? 'No models.'
          : renderTable(
              ['NAME', 'ID', 'ARCHITECTURE', 'PARAMETERS', 'LAYERS', 'CREATED'],
              page.data.map((m) => [m.name, m.id, m.architecture, m.parameters?.toLocaleString('en-US'), m.layers, formatTime(m.created_at)]),
            ),
      );
      if (page.has_more) out.note(`more: grove models list --after ${page.last_id}`);
    });

  models
    .command('get')
    .description('show a base model')
    .argument('<id-or-name>', 'model id or name')
    .action(async (idOrName: string, _opts: unknown, cmd: Command) => {
      const { client, out } = await ctx.session(cmd);
      const model = await client.get<Model>(`/v1/models/${encodeURIComponent(idOrName)}`);
      out.result(model, () => details(model));
    });
}
