import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ROLES } from '@grove/contracts';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { actorOf } from '../audit/audit-event';
import { unixSeconds, unixSecondsOrNull } from '../common/presenters';
import { CurrentPrincipal, RequireRole } from './auth.decorators';
import type { Principal } from './principal';
import type { TokenRecord } from './tokens.repository';
import { TokensService } from './tokens.service';

class CreateTokenDto extends createZodDto(
  z
    .object({
      name: z.string().min(1).max(100),
      role: z.enum(ROLES),
      team_id: z.string().min(1).optional(),
      expires_in_days: z.number().int().min(1).max(3650).optional(),
    })
    .strict(),
) {}

const present = (t: TokenRecord) => ({
  id: t.id,
  object: 'token',
  name: t.name,
  role: t.role,
  team_id: t.teamId,
  prefix: t.prefix,
  created_at: unixSeconds(t.createdAt),
  expires_at: unixSecondsOrNull(t.expiresAt),
  revoked_at: unixSecondsOrNull(t.revokedAt),
});

const DAY_MS = 86_400_000;

@ApiTags('tokens')
@ApiBearerAuth()
@RequireRole('admin')
@Controller('v1/tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  /** The secret is in this response only; Grove stores its hash. */
  @Post()
  async create(@Body() body: CreateTokenDto, @CurrentPrincipal() principal: Principal) {
    const token = await this.tokens.issue({
      teamId: body.team_id ?? principal.teamId,
      name: body.name,
      role: body.role,
      expiresAt: body.expires_in_days ? new Date(Date.now() + body.expires_in_days * DAY_MS) : undefined,
    }, actorOf(principal));
    return { ...present(token), secret: token.secret };
  }

  @Get()
  async list() {
    return { object: 'list', data: (await this.tokens.list()).map(present) };
  }

  @Delete(':id')
  @HttpCode(200)
  async revoke(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    return present(await this.tokens.revoke(id, actorOf(principal)));
  }
}
