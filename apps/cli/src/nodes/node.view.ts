import { formatBytes, formatPairs, formatRelative, formatTime } from '../output/format';
import { renderFields, renderTable } from '../output/table';

/** The API's `node` (the fields the CLI shows). */
export interface GroveNode {
  id: string;
  name: string;
  state: 'online' | 'lost';
  schedulable?: 'active' | 'cordoned' | 'draining';
  backend?: string;
  labels: Record<string, string>;
  base_models?: string[];
  gpus: { index: number; name: string; memory_total_bytes: number; memory_used_bytes: number | null }[];
  running_jobs: { job_id: string; gpu_index: number; step: number; total_steps: number; loss: number | null; tokens_per_second: number | null }[];
  last_heartbeat_at: number;
}

/** Used/total over all GPUs, e.g. `3.20 GiB/80.0 GiB`; total only while no heartbeat has reported usage. */
export function nodeMemory(node: GroveNode): string {
  const total = node.gpus.reduce((n, g) => n + g.memory_total_bytes, 0);
  const reported = node.gpus.filter((g) => g.memory_used_bytes !== null);
  if (reported.length === 0) return formatBytes(total);
  return `${formatBytes(reported.reduce((n, g) => n + (g.memory_used_bytes ?? 0), 0))}/${formatBytes(total)}`;
}

export function nodeTable(nodes: GroveNode[], now: number): string {
  if (nodes.length === 0) return 'No nodes.';
  return renderTable(
    ['NAME', 'STATE', 'SCHEDULING', 'GPUS', 'MEMORY', 'JOBS', 'LABELS', 'HEARTBEAT'],
    nodes.map((n) => [n.name, n.state, n.schedulable ?? '', n.gpus.length, nodeMemory(n), n.running_jobs.length, formatPairs(n.labels), formatRelative(n.last_heartbeat_at, now)]),
  );
}

export function nodeDetails(node: GroveNode, now: number): string {
  const fields = renderFields([
    ['id', node.id],
    ['name', node.name],
    ['state', node.state],
    ['scheduling', node.schedulable],
    ['backend', node.backend],
    ['labels', formatPairs(node.labels)],
    ['base models', node.base_models?.join(', ')],
    ['heartbeat', `${formatTime(node.last_heartbeat_at)} (${formatRelative(node.last_heartbeat_at, now)})`],
  ]);
  const gpus = renderTable(
    ['GPU', 'NAME', 'MEMORY USED', 'MEMORY TOTAL'],
    node.gpus.map((g) => [g.index, g.name, formatBytes(g.memory_used_bytes), formatBytes(g.memory_total_bytes)]),
  );
  const jobs =
    node.running_jobs.length === 0
      ? 'No running jobs.'
      : renderTable(
          ['JOB', 'GPU', 'STEP', 'LOSS', 'TOKENS/S'],
          node.running_jobs.map((j) => [j.job_id, j.gpu_index, `${j.step}/${j.total_steps}`, j.loss?.toFixed(4), j.tokens_per_second?.toFixed(0)]),
        );
  return `${fields}\n\n${gpus}\n\n${jobs}`;
}
