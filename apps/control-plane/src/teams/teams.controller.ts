import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { RequireRole } from '../auth/auth.decorators';
import { unixSeconds } from '../common/presenters';
import { Idempotent } from '../idempotency/idempotent.decorator';
import type { TeamRecord } from './teams.repository';
import { TeamsService } from './teams.service';

class CreateTeamDto extends createZodDto(
  z.object({ name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be 1-63 lowercase letters, digits or "-"') }).strict(),
) {}

const present = (t: TeamRecord) => ({ id: t.id, object: 'team', name: t.name, created_at: unixSeconds(t.createdAt) });

@ApiTags('teams')
@ApiBearerAuth()
@RequireRole('admin')
@Controller('v1/teams')
export class TeamsController {
  constructor(private readonly teams: TeamsService) {}

  @Post()
  @Idempotent()
  async create(@Body() body: CreateTeamDto) {
    return present(await this.teams.create(body.name));
  }

  @Get()
  async list() {
    return { object: 'list', data: (await this.teams.list()).map(present) };
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    return present(await this.teams.get(id));
  }
}
