import { Controller, Get, Param, ParseIntPipe, Put, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { Public } from '../auth/auth.decorators';
import { AgentArtifactsService } from './agent-artifacts.service';
import { JoinTokenGuard, type AgentRequest } from './join-token.guard';

class AssignmentQueryDto extends createZodDto(z.object({ attempt: z.coerce.number().int().min(1), node_id: z.string().min(1) })) {}
class AttemptQueryDto extends createZodDto(z.object({ attempt: z.coerce.number().int().min(1) })) {}

/** The agents' HTTP side (docs/agent-protocol.md): join-token auth, not API tokens. */
@ApiExcludeController()
@Public()
@UseGuards(JoinTokenGuard)
@Controller('v1/agent')
export class AgentArtifactsController {
  constructor(private readonly artifacts: AgentArtifactsService) {}

  @Get('assignments/:jobId')
  assignment(@Param('jobId') jobId: string, @Query() q: AssignmentQueryDto, @Req() req: AgentRequest) {
    return this.artifacts.assignment(req.joinTokenId!, jobId, q.attempt, q.node_id);
  }

  @Get('jobs/:jobId/token-file')
  async tokenFile(@Param('jobId') jobId: string, @Res() res: Response): Promise<void> {
    const stream = await this.artifacts.tokenFile(jobId);
    res.status(200).type('application/octet-stream');
    await pipeline(stream, res);
  }

  @Get('jobs/:jobId/validation-token-file')
  async validationTokenFile(@Param('jobId') jobId: string, @Res() res: Response): Promise<void> {
    const stream = await this.artifacts.validationTokenFile(jobId);
    res.status(200).type('application/octet-stream');
    await pipeline(stream, res);
  }

  @Get('jobs/:jobId/checkpoints/:step')
  async checkpoint(@Param('jobId') jobId: string, @Param('step', ParseIntPipe) step: number, @Res() res: Response): Promise<void> {
    const stream = await this.artifacts.checkpoint(jobId, step);
    res.status(200).type('application/x-tar');
    await pipeline(stream, res);
  }

  @Put('jobs/:jobId/checkpoints/:step')
  async uploadCheckpoint(
    @Param('jobId') jobId: string, @Param('step', ParseIntPipe) step: number, @Query() q: AttemptQueryDto, @Req() req: Request & AgentRequest,
    @Res() res: Response,
  ): Promise<void> {
    const key = await this.artifacts.upload(req.joinTokenId!, jobId, q.attempt, 'checkpoint', req, step);
    res.status(201).json({ key });
  }

  @Put('jobs/:jobId/adapter')
  async uploadAdapter(@Param('jobId') jobId: string, @Query() q: AttemptQueryDto, @Req() req: Request & AgentRequest, @Res() res: Response): Promise<void> {
    const key = await this.artifacts.upload(req.joinTokenId!, jobId, q.attempt, 'adapter', req);
    res.status(201).json({ key });
  }
}
