import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { parseLabelEdits } from '../config/key-value';
import type { ListPage } from '../jobs/job';
import { nodeDetails, nodeTable, type GroveNode } from './node.view';

const nodePath = (idOrName: string) => `/v1/nodes/${encodeURIComponent(idOrName)}`;

export function registerNodesCommands(program: Command, ctx: CliContext): void {
  const nodes = program.command('nodes').description('worker nodes (operators)');

  nodes
    .command('list')
    .description('nodes with their state, GPUs, memory, running jobs and labels')
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, out } = await ctx.session(cmd);
      const list = await client.get<ListPage<GroveNode>>('/v1/nodes');
      out.result(list, () => nodeTable(list.data, ctx.deps.now()));
    });

  nodes
    .command('get')
    .description('a node with its GPUs and running jobs')
    .argument('<node>', 'node id or name')
    .action(async (node: string, _opts: unknown, cmd: Command) => {
      const { client, out } = await ctx.session(cmd);
      const found = await client.get<GroveNode>(nodePath(node));
      out.result(found, () => nodeDetails(found, ctx.deps.now()));
    });

  const action = (verb: 'cordon' | 'uncordon' | 'drain', description: string) =>
    nodes
      .command(verb)
      .description(description)
      .argument('<node>', 'node id or name')
      .action(async (node: string, opts: { reason?: string }, cmd: Command) => {
        const { client, out } = await ctx.session(cmd);
        const { body } = await client.request<GroveNode>('POST', `${nodePath(node)}/${verb}`, { json: opts.reason ? { reason: opts.reason } : {} });
        out.result(body, () => `${body.name} ${body.schedulable ?? verb}`);
      });
  action('cordon', 'start nothing new on the node (its running jobs go on)').option('--reason <text>', 'why, for the audit log');
  action('uncordon', 'let the node take new jobs again');
  action('drain', 'cordon the node and move its running jobs elsewhere (from their checkpoints)').option('--reason <text>', 'why, for the audit log');

  nodes
    .command('label')
    .description('set (key=value) or remove (key-) operator labels; shows the effective labels')
    .argument('<node>', 'node id or name')
    .argument('<edits...>', 'key=value to set, key- to remove')
    .action(async (node: string, edits: string[], _opts: unknown, cmd: Command) => {
      const labels = parseLabelEdits(edits);
      const { client, out } = await ctx.session(cmd);
      const { body } = await client.request<GroveNode>('PATCH', nodePath(node), { json: { labels } });
      out.result(body, () => `${body.name} labels: ${Object.entries(body.labels).map(([k, v]) => `${k}=${v}`).join(',') || '(none)'}`);
    });

  nodes
    .command('delete')
    .description('remove a node, e.g. a lost machine that will not come back')
    .argument('<node>', 'node id or name')
    .action(async (node: string, _opts: unknown, cmd: Command) => {
      const { client, out } = await ctx.session(cmd);
      const { body } = await client.request<{ id?: string }>('DELETE', nodePath(node));
      out.result(body ?? { id: node }, () => `${node} deleted`);
    });
}
