import { ROLES } from '@grove/contracts';
import { Option, type Command } from 'commander';
import type { CliContext } from '../cli-context';
import { intBetween } from '../config/option-parsers';
import type { ListPage } from '../jobs/job';
import { formatTime } from '../output/format';
import { renderFields, renderTable } from '../output/table';

interface Token {
  id: string;
  name: string;
  role: string;
  team_id: string;
  prefix: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  secret?: string;
}

const details = (t: Token) =>
  renderFields([
    ['id', t.id],
    ['name', t.name],
    ['role', t.role],
    ['team', t.team_id],
    ['prefix', t.prefix],
    ['created', formatTime(t.created_at)],
    ['expires', formatTime(t.expires_at)],
    ['revoked', formatTime(t.revoked_at)],
    ['secret', t.secret],
  ]);

export function registerTokensCommands(program: Command, ctx: CliContext): void {
  const tokens = program.command('tokens').description('API tokens (admins)');

  tokens
    .command('create')
    .description('issue a token; its secret is printed this once')
    .requiredOption('--name <name>', 'who or what uses it')
    .addOption(new Option('--role <role>', 'member, operator or admin').choices(ROLES).makeOptionMandatory())
    .option('--team <team-id>', "team (default: the caller's)")
    .option('--expires-in-days <days>', 'expiry (1-3650 days; default never)', intBetween(1, 3650))
    .action(async (opts: { name: string; role: string; team?: string; expiresInDays?: number }, cmd: Command) => {
      const { client, out } = await ctx.session(cmd);
      const { body: token } = await client.request<Token>('POST', '/v1/tokens', {
        json: { name: opts.name, role: opts.role, team_id: opts.team, expires_in_days: opts.expiresInDays },
        idempotent: false,
      });
      out.result(token, () => details(token));
      out.note('The secret is shown only this once; Grove keeps only its hash.');
    });

  tokens
    .command('list')
    .description('list tokens (no secrets)')
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, out } = await ctx.session(cmd);
      const list = await client.get<ListPage<Token>>('/v1/tokens');
      out.result(list, () =>
        renderTable(
          ['ID', 'NAME', 'ROLE', 'TEAM', 'PREFIX', 'CREATED', 'EXPIRES', 'REVOKED'],
          list.data.map((t) => [t.id, t.name, t.role, t.team_id, t.prefix, formatTime(t.created_at), formatTime(t.expires_at), formatTime(t.revoked_at)]),
        ),
      );
    });

  tokens
    .command('revoke')
    .description('revoke a token at once')
    .argument('<id>', 'token id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { client, out } = await ctx.session(cmd);
      const { body: token } = await client.request<Token>('DELETE', `/v1/tokens/${encodeURIComponent(id)}`);
      out.result(token, () => `${token.id} (${token.name}) revoked`);
    });
}
