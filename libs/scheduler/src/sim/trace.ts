import { z } from 'zod';
import { SchedulerError } from '../errors';

const labelsSchema = z.record(z.string());

const metaLineSchema = z.object({ type: z.literal('meta') }).passthrough();

const nodeSchema = z.object({
  id: z.string().min(1),
  gpuType: z.string().min(1),
  gpus: z.number().int().positive(),
  /** Overrides the GPU type's memory from the calibration file. */
  gpuMemoryBytes: z.number().positive().optional(),
  labels: labelsSchema.default({}),
  /** Base models this node has weights for; absent = any. */
  models: z.array(z.string().min(1)).optional(),
  cordoned: z.boolean().default(false),
});

const clusterLineSchema = z.object({ type: z.literal('cluster'), nodes: z.array(nodeSchema).min(1) });

const jobLineSchema = z.object({
  type: z.literal('job'),
  id: z.string().min(1),
  arrivalSeconds: z.number().nonnegative(),
  baseModel: z.string().min(1),
  datasetTokens: z.number().int().positive(),
  epochs: z.number().positive(),
  microBatchTokens: z.number().int().positive(),
  seqLen: z.number().int().positive(),
  loraRank: z.number().int().positive(),
  priority: z.number().int(),
  selector: labelsSchema.optional(),
});

const cordonLineSchema = z.object({
  type: z.enum(['cordon', 'uncordon']),
  atSeconds: z.number().nonnegative(),
  node: z.string().min(1),
});

const lineSchema = z.discriminatedUnion('type', [metaLineSchema, clusterLineSchema, jobLineSchema, cordonLineSchema]);

export type TraceNode = z.infer<typeof nodeSchema>;
export type TraceJob = Omit<z.infer<typeof jobLineSchema>, 'type'>;
export type TraceCordonEvent = z.infer<typeof cordonLineSchema>;

export interface Trace {
  readonly meta: Readonly<Record<string, unknown>>;
  readonly nodes: readonly TraceNode[];
  readonly jobs: readonly TraceJob[];
  readonly cordonEvents: readonly TraceCordonEvent[];
}

/** Parses a JSONL trace (format: libs/scheduler/docs/trace-format.md); errors name the offending line. */
export function parseTrace(text: string): Trace {
  let meta: Record<string, unknown> = {};
  let nodes: TraceNode[] | null = null;
  const jobs: TraceJob[] = [];
  const cordonEvents: TraceCordonEvent[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n].trim();
    if (raw === '') continue;
    const where = `trace line ${n + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new SchedulerError('invalid_trace', `${where}: not valid JSON`);
    }
    const parsed = lineSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new SchedulerError('invalid_trace', `${where}: ${issue.path.join('.') || 'line'}: ${issue.message}`);
    }
    const line = parsed.data;
    if (line.type === 'meta') {
      const { type: _type, ...rest } = line;
      meta = rest;
    } else if (line.type === 'cluster') {
      if (nodes) throw new SchedulerError('invalid_trace', `${where}: a second cluster line`);
      nodes = line.nodes;
    } else if (line.type === 'job') {
      const { type: _type, ...job } = line;
      jobs.push(job);
    } else {
      cordonEvents.push(line);
    }
  }
  if (!nodes) throw new SchedulerError('invalid_trace', 'trace has no cluster line');
  checkReferences(nodes, jobs, cordonEvents);
  return { meta, nodes, jobs, cordonEvents };
}

function checkReferences(nodes: readonly TraceNode[], jobs: readonly TraceJob[], events: readonly TraceCordonEvent[]): void {
  const nodeIds = new Set<string>();
  for (const node of nodes) {
    if (nodeIds.has(node.id)) throw new SchedulerError('invalid_trace', `duplicate node id "${node.id}"`);
    nodeIds.add(node.id);
  }
  const jobIds = new Set<string>();
  for (const job of jobs) {
    if (jobIds.has(job.id)) throw new SchedulerError('invalid_trace', `duplicate job id "${job.id}"`);
    jobIds.add(job.id);
  }
  for (const e of events) {
    if (!nodeIds.has(e.node)) throw new SchedulerError('invalid_trace', `${e.type} names unknown node "${e.node}"`);
  }
}
