import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { createJobSchema, JOB_STATUSES } from '@grove/contracts';
import type { Request, Response } from 'express';
import { createZodDto } from 'nestjs-zod';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { CurrentPrincipal } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ApiError } from '../common/api-error';
import { pageQuerySchema, toPage } from '../common/pagination';
import { Idempotent } from '../idempotency/idempotent.decorator';
import { ModelsService } from '../models/models.service';
import { presentEvent, presentJob } from './job.presenter';
import { JobsService } from './jobs.service';

class CreateJobDto extends createZodDto(createJobSchema) {}
class ListJobsQueryDto extends createZodDto(
  pageQuerySchema.extend({
    status: z.enum(JOB_STATUSES).optional(),
    model: z.string().min(1).optional(),
    metadata: z.record(z.string().min(1).max(64), z.string().max(512)).optional(),
  }),
) {}
class EventsQueryDto extends createZodDto(
  z.object({
    after: z.string().regex(/^\d+$/, 'must be an event id').optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  }),
) {}

@ApiTags('jobs')
@ApiBearerAuth()
@Controller('v1/jobs')
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly models: ModelsService,
  ) {}

  @Post()
  @Idempotent()
  async create(@Body() body: CreateJobDto, @CurrentPrincipal() principal: Principal) {
    return presentJob(await this.jobs.create(principal.teamId, body));
  }

  /** Newest first; filter by `status`, `model` and `metadata[key]=value`. */
  @Get()
  async list(@Query() query: ListJobsQueryDto, @CurrentPrincipal() principal: Principal) {
    const modelId = query.model ? (await this.models.resolve(query.model, 'model')).id : undefined;
    const rows = await this.jobs.list(principal.teamId, { status: query.status, modelId, metadata: query.metadata }, query.after, query.limit);
    return toPage(rows, query.limit, presentJob);
  }

  @Get(':id')
  async get(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    return presentJob(await this.jobs.get(principal.teamId, id));
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Idempotent()
  async cancel(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    return presentJob(await this.jobs.cancel(principal.teamId, id));
  }

  /** The trained adapter (PEFT files) as a tar archive, once the job succeeded. */
  @Get(':id/adapter')
  async adapter(@Param('id') id: string, @CurrentPrincipal() principal: Principal, @Res() res: Response): Promise<void> {
    const stream = await this.jobs.adapter(principal.teamId, id);
    res.status(200).type('application/x-tar').attachment(`${id}-adapter.tar`);
    await pipeline(stream, res);
  }

  @Get(':id/checkpoints')
  async checkpoints(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    const rows = await this.jobs.checkpoints(principal.teamId, id);
    return {
      object: 'list',
      data: rows.map((c) => ({ object: 'fine_tuning.job.checkpoint', job_id: id, step: c.step, attempt: c.attempt, created_at: Math.floor(c.createdAt.getTime() / 1000) })),
    };
  }

  /** Oldest first, `after` = the last event id seen. */
  @Get(':id/events')
  async events(@Param('id') id: string, @Query() query: EventsQueryDto, @CurrentPrincipal() principal: Principal) {
    const after = query.after === undefined ? undefined : BigInt(query.after);
    const rows = await this.jobs.events(principal.teamId, id, after, query.limit);
    const page = rows.slice(0, query.limit).map(presentEvent);
    return { object: 'list', data: page, has_more: rows.length > query.limit, last_id: page.at(-1)?.id ?? null };
  }

  /** Server-sent events: past events after `after` / Last-Event-ID, then live ones; ends when the job finishes. */
  @Get(':id/events/stream')
  async stream(
    @Param('id') id: string,
    @Query() query: EventsQueryDto,
    @Req() req: Request,
    @Res() res: Response,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    const resume = req.header('last-event-id') ?? query.after;
    if (resume !== undefined && !/^\d+$/.test(resume)) throw new ApiError('invalid_request', 'Last-Event-ID must be an event id', 'Last-Event-ID');
    const abort = new AbortController();
    req.on('close', () => abort.abort());
    const events = this.jobs.follow(principal.teamId, id, resume === undefined ? undefined : BigInt(resume), abort.signal);
    const first = await events.next();
    res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    res.flushHeaders();
    for (let item = first; !item.done; item = await events.next()) {
      const event = presentEvent(item.value);
      res.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    }
    res.write('event: end\ndata: {}\n\n');
    res.end();
  }
}
