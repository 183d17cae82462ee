import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import type { ListPage } from '../jobs/job';
import { formatTime } from '../output/format';
import { renderTable } from '../output/table';

interface Team {
  id: string;
  name: string;
  created_at: number;
}

export function registerTeamsCommands(program: Command, ctx: CliContext): void {
  const teams = program.command('teams').description('teams (admins)');

  teams
    .command('create')
    .description('create a team')
    .argument('<name>', 'lowercase letters, digits and -')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { client, out } = await ctx.session(cmd);
      const { body: team } = await client.request<Team>('POST', '/v1/teams', { json: { name }, idempotent: false });
      out.result(team, () => `${team.id} ${team.name}`);
    });

  teams
    .command('list')
    .description('list teams')
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, out } = await ctx.session(cmd);
      const list = await client.get<ListPage<Team>>('/v1/teams');
      out.result(list, () => renderTable(['ID', 'NAME', 'CREATED'], list.data.map((t) => [t.id, t.name, formatTime(t.created_at)])));
    });
}
