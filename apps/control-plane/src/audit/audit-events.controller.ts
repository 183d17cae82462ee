import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { RequireRole } from '../auth/auth.decorators';
import { pageQuerySchema, toPage } from '../common/pagination';
import { unixSeconds } from '../common/presenters';
import type { AuditEventRecord } from './audit-event';
import { AuditRepository } from './audit.repository';

class AuditQueryDto extends createZodDto(
  pageQuerySchema.extend({
    target_type: z.string().min(1).max(64).optional(),
    target_id: z.string().min(1).max(200).optional(),
    action: z.string().min(1).max(64).optional(),
  }),
) {}

const present = (e: AuditEventRecord) => ({
  id: e.id,
  object: 'audit_event',
  action: e.action,
  target_type: e.targetType,
  target_id: e.targetId,
  actor: { token_id: e.actorTokenId, team_id: e.actorTeamId },
  data: e.data,
  created_at: unixSeconds(e.createdAt),
});

/** What operators and admins did, newest first. */
@ApiTags('audit')
@ApiBearerAuth()
@RequireRole('operator')
@Controller('v1/audit-events')
export class AuditEventsController {
  constructor(private readonly audit: AuditRepository) {}

  @Get()
  async list(@Query() q: AuditQueryDto) {
    const rows = await this.audit.list({ targetType: q.target_type, targetId: q.target_id, action: q.action }, q.after, q.limit + 1);
    return toPage(rows, q.limit, present);
  }
}
