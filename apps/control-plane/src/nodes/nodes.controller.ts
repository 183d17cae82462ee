import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { RequireRole } from '../auth/auth.decorators';
import { unixSeconds, unixSecondsOrNull } from '../common/presenters';
import { Idempotent } from '../idempotency/idempotent.decorator';
import type { JoinTokenRecord } from './join-tokens.repository';
import { JoinTokensService } from './join-tokens.service';
import type { NodeRecord } from './node-record';
import { NodesService } from './nodes.service';

class CreateJoinTokenDto extends createZodDto(z.object({ name: z.string().min(1).max(100) }).strict()) {}

const presentJoinToken = (t: JoinTokenRecord) => ({
  id: t.id,
  object: 'join_token',
  name: t.name,
  prefix: t.prefix,
  created_at: unixSeconds(t.createdAt),
  revoked_at: unixSecondsOrNull(t.revokedAt),
});

function presentNode(n: NodeRecord) {
  const memory = new Map(n.telemetry?.gpus.map((g) => [g.index, g]) ?? []);
  return {
    id: n.id,
    object: 'node',
    name: n.name,
    state: n.state,
    backend: n.backend,
    engine_version: n.engineVersion,
    labels: n.labels,
    base_models: n.baseModels,
    gpus: n.gpus.map((g) => ({
      index: g.index,
      name: g.name,
      memory_total_bytes: g.totalMemoryBytes,
      memory_used_bytes: memory.get(g.index)?.memoryUsedBytes ?? null,
      memory_peak_bytes: memory.get(g.index)?.memoryPeakBytes ?? null,
    })),
    running_jobs: (n.telemetry?.jobs ?? []).map((j) => ({
      job_id: j.jobId,
      gpu_index: j.gpuIndex,
      step: j.step,
      total_steps: j.totalSteps,
      loss: j.loss,
      tokens_per_second: j.tokensPerSecond,
    })),
    registered_at: unixSeconds(n.registeredAt),
    last_heartbeat_at: unixSeconds(n.lastHeartbeatAt),
  };
}

@ApiTags('nodes')
@ApiBearerAuth()
@RequireRole('operator')
@Controller('v1/nodes')
export class NodesController {
  constructor(
    private readonly nodes: NodesService,
    private readonly joinTokens: JoinTokensService,
  ) {}

  /** Worker nodes with their GPUs, memory, running jobs and last heartbeat. */
  @Get()
  async list() {
    return { object: 'list', data: (await this.nodes.list()).map(presentNode) };
  }

  /** A join token for agents; the secret is in this response only. */
  @Post('join-tokens')
  @Idempotent()
  async createJoinToken(@Body() body: CreateJoinTokenDto) {
    const token = await this.joinTokens.create(body.name);
    return { ...presentJoinToken(token), secret: token.secret };
  }

  @Get('join-tokens')
  async listJoinTokens() {
    return { object: 'list', data: (await this.joinTokens.list()).map(presentJoinToken) };
  }

  @Delete('join-tokens/:id')
  @HttpCode(200)
  async revokeJoinToken(@Param('id') id: string) {
    return presentJoinToken(await this.joinTokens.revoke(id));
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    return presentNode(await this.nodes.get(id));
  }
}
