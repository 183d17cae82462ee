import { JOB_STATUSES } from '@grove/contracts';
import { Option, type Command } from 'commander';
import type { JobEvent } from '../api/job-event-stream';
import { followJobEvents } from '../api/job-event-stream';
import type { CliContext, Session } from '../cli-context';
import { parseKeyValues } from '../config/key-value';
import { collect, intBetween } from '../config/option-parsers';
import type { Job, ListPage } from './job';
import { applyJobOverrides, parseJobFile } from './job-file';
import { assertSucceeded, waitForJobEnd } from './job-wait';
import { eventLine, jobDetails, jobTable, WaitProgress } from './job.view';

const jobPath = (id: string) => `/v1/jobs/${encodeURIComponent(id)}`;

export function registerJobsCommands(program: Command, ctx: CliContext): void {
  const jobs = program.command('jobs').description('fine-tune jobs: create, list, follow, cancel');

  jobs
    .command('create')
    .description('submit a job from a YAML or JSON file holding the POST /v1/jobs body')
    .requiredOption('-f, --file <path>', 'job file (YAML or JSON)')
    .option('--model <name>', 'base model (overrides the file)')
    .option('--training-file <id>', 'training dataset id (overrides the file)')
    .option('--validation-file <id>', 'validation dataset id (overrides the file)')
    .option('--suffix <suffix>', 'adapter name suffix (overrides the file)')
    .option('--metadata <key=value>', 'metadata pair, repeatable (merged into the file\'s)', collect, [])
    .option('--node-selector <label=value>', 'run only on nodes with this label, repeatable', collect, [])
    .option('--idempotency-key <key>', 'retry-safe submission: the same key and body return the same job')
    .option('--wait', 'follow the job until it ends; exit 0 succeeded, 1 failed, 4 cancelled')
    .action(async (opts: CreateOptions, cmd: Command) => {
      const body = applyJobOverrides(parseJobFile(await ctx.readInput(opts.file), opts.file), {
        model: opts.model,
        trainingFile: opts.trainingFile,
        validationFile: opts.validationFile,
        suffix: opts.suffix,
        metadata: parseKeyValues(opts.metadata, '--metadata'),
        nodeSelector: parseKeyValues(opts.nodeSelector, '--node-selector'),
      });
      const session = await ctx.session(cmd);
      const { body: job, replayed } = await session.client.request<Job>('POST', '/v1/jobs', { json: body, idempotencyKey: opts.idempotencyKey });
      if (replayed) session.out.note(`${job.id} was already created with this idempotency key; showing it`);
      if (!opts.wait) {
        session.out.result(job, () => jobDetails(job, ctx.deps.now()));
        return;
      }
      session.out.note(`${job.id} created; waiting for it to finish`);
      await waitAndReport(ctx, session, job.id);
    });

  jobs
    .command('list')
    .description('list jobs, newest first')
    .addOption(new Option('--status <status>', 'only jobs in this state').choices(JOB_STATUSES))
    .option('--model <name>', 'only jobs of this base model')
    .option('--metadata <key=value>', 'only jobs with this metadata pair, repeatable', collect, [])
    .option('--limit <n>', 'jobs per page (1-100)', intBetween(1, 100), 20)
    .option('--after <id>', 'the page after this job id')
    .action(async (opts: { status?: string; model?: string; metadata: string[]; limit: number; after?: string }, cmd: Command) => {
      const metadata = parseKeyValues(opts.metadata, '--metadata');
      const { client, out } = await ctx.session(cmd);
      const page = await client.get<ListPage<Job>>('/v1/jobs', {
        status: opts.status,
        model: opts.model,
        limit: opts.limit,
        after: opts.after,
        ...Object.fromEntries(Object.entries(metadata).map(([k, v]) => [`metadata[${k}]`, v])),
      });
      out.result(page, () => jobTable(page.data, ctx.deps.now()));
      if (page.has_more) out.note(`more: grove jobs list --after ${page.last_id}`);
    });

  jobs
    .command('get')
    .description('show a job (with --wait: follow it until it ends, exit code as for create --wait)')
    .argument('<id>', 'job id')
    .option('--wait', 'follow the job until it ends; exit 0 succeeded, 1 failed, 4 cancelled')
    .action(async (id: string, opts: { wait?: boolean }, cmd: Command) => {
      const session = await ctx.session(cmd);
      if (opts.wait) return waitAndReport(ctx, session, id);
      const job = await session.client.get<Job>(jobPath(id));
      session.out.result(job, () => jobDetails(job, ctx.deps.now()));
    });

  jobs
    .command('cancel')
    .description('cancel a job that has not finished')
    .argument('<id>', 'job id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { client, out } = await ctx.session(cmd);
      const { body: job } = await client.request<Job>('POST', `${jobPath(id)}/cancel`);
      out.result(job, () => `${job.id} ${job.status}`);
    });

  jobs
    .command('events')
    .description("a job's events, oldest first (with --follow: live until the job ends)")
    .argument('<id>', 'job id')
    .option('--follow', 'stream new events until the job ends (resumes by itself after a dropped connection)')
    .option('--after <event-id>', 'only events after this one')
    .action(async (id: string, opts: { follow?: boolean; after?: string }, cmd: Command) => {
      const { client, out } = await ctx.session(cmd);
      if (opts.follow) {
        const print = (e: JobEvent) => (out.mode === 'human' ? out.line(eventLine(e)) : out.jsonLine(e));
        return followJobEvents(client, id, { after: opts.after, onEvent: print, sleep: ctx.deps.sleep });
      }
      const events: JobEvent[] = [];
      for (let after = opts.after, more = true; more; ) {
        const page = await client.get<ListPage<JobEvent>>(`${jobPath(id)}/events`, { after, limit: 1000 });
        events.push(...page.data);
        more = page.has_more === true;
        after = page.last_id ?? undefined;
      }
      const list = { object: 'list', data: events, has_more: false, last_id: events.at(-1)?.id ?? null };
      out.result(list, () => (events.length === 0 ? 'No events.' : events.map(eventLine).join('\n')));
    });
}

interface CreateOptions {
  file: string;
  model?: string;
  trainingFile?: string;
  validationFile?: string;
  suffix?: string;
  metadata: string[];
  nodeSelector: string[];
  idempotencyKey?: string;
  wait?: boolean;
}

/** Follows the job to its end, prints it, and fails with the job's outcome unless it succeeded. */
async function waitAndReport(ctx: CliContext, { client, out }: Session, id: string): Promise<void> {
  const progress = new WaitProgress();
  const job = await waitForJobEnd(client, id, (e) => {
    const line = progress.line(e, ctx.deps.now());
    if (line) out.note(line);
  }, ctx.deps.sleep);
  out.result(job, () => jobDetails(job, ctx.deps.now()));
  assertSucceeded(job);
}
