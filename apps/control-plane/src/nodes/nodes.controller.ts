import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { actorOf } from '../audit/audit-event';
import { CurrentPrincipal, RequireRole } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { unixSeconds, unixSecondsOrNull } from '../common/presenters';
import { Idempotent } from '../idempotency/idempotent.decorator';
import type { JoinTokenRecord } from './join-tokens.repository';
import { JoinTokensService } from './join-tokens.service';
import { schedulable, type NodeRecord } from './node-record';
import { NodesService } from './nodes.service';

class CreateJoinTokenDto extends createZodDto(z.object({ name: z.string().min(1).max(100) }).strict()) {}

class NodeActionDto extends createZodDto(z.object({ reason: z.string().min(1).max(500).optional() }).strict()) {}

/** Label keys and values as Kubernetes spells them: `[prefix/]name`, values ≤ 63 of [A-Za-z0-9._-]. */
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
class UpdateNodeDto extends createZodDto(
  z
    .object({
      labels: z
        .record(z.string().regex(LABEL_KEY, 'label keys are [prefix/]name of letters, digits, "-", "_", "."'), z.string().regex(LABEL_VALUE, 'label values are ≤ 63 letters, digits, "-", "_", "."').nullable())
        .refine((l) => Object.keys(l).length <= 64, 'at most 64 labels per request'),
    })
    .strict(),
) {}

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
    schedulable: schedulable(n),
    cordoned: n.cordoned,
    draining: n.draining,
    labels: n.labels,
    agent_labels: n.agentLabels,
    operator_labels: n.operatorLabels,
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

  /** A join token for agents; the secret is in this response only (so it is never stored for an idempotent replay). */
  @Post('join-tokens')
  async createJoinToken(@Body() body: CreateJoinTokenDto, @CurrentPrincipal() principal: Principal) {
    const token = await this.joinTokens.create(body.name, actorOf(principal));
    return { ...presentJoinToken(token), secret: token.secret };
  }

  @Get('join-tokens')
  async listJoinTokens() {
    return { object: 'list', data: (await this.joinTokens.list()).map(presentJoinToken) };
  }

  @Delete('join-tokens/:id')
  @HttpCode(200)
  async revokeJoinToken(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    return presentJoinToken(await this.joinTokens.revoke(id, actorOf(principal)));
  }

  /** A node by id or name. */
  @Get(':id')
  async get(@Param('id') id: string) {
    return presentNode(await this.nodes.get(id));
  }

  /** Nothing new starts on the node; running jobs stay. */
  @Post(':id/cordon')
  @HttpCode(200)
  @Idempotent()
  async cordon(@Param('id') id: string, @Body() body: NodeActionDto, @CurrentPrincipal() principal: Principal) {
    return presentNode(await this.nodes.cordon(id, actorOf(principal), body.reason));
  }

  @Post(':id/uncordon')
  @HttpCode(200)
  @Idempotent()
  async uncordon(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    return presentNode(await this.nodes.uncordon(id, actorOf(principal)));
  }

  /** Cordons the node and moves its jobs elsewhere via checkpoint (no progress lost); then it stays cordoned. */
  @Post(':id/drain')
  @HttpCode(200)
  @Idempotent()
  async drain(@Param('id') id: string, @Body() body: NodeActionDto, @CurrentPrincipal() principal: Principal) {
    return presentNode(await this.nodes.drain(id, actorOf(principal), body.reason));
  }

  /** Operator labels (merged over the agent's); `null` removes one. */
  @Patch(':id')
  async update(@Param('id') id: string, @Body() body: UpdateNodeDto, @CurrentPrincipal() principal: Principal) {
    return presentNode(await this.nodes.label(id, actorOf(principal), body.labels));
  }

  /** Forgets a node with nothing placed on it (an online one must be cordoned first). */
  @Delete(':id')
  @HttpCode(200)
  async remove(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    return { ...presentNode(await this.nodes.remove(id, actorOf(principal))), deleted: true };
  }
}
