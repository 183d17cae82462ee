import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Actor } from '../audit/audit-event';
import { AuditRepository } from '../audit/audit.repository';
import { hashTokenSecret } from '../auth/token-secret';
import { ApiError } from '../common/api-error';
import { newId } from '../common/ids';
import { JoinTokensRepository, type JoinTokenRecord } from './join-tokens.repository';

const PREFIX = 'grove_join_';

/** Node join tokens: what an agent presents to register and report. Stored hashed, like API tokens. */
@Injectable()
export class JoinTokensService {
  constructor(
    private readonly tokens: JoinTokensRepository,
    private readonly audit: AuditRepository,
  ) {}

  async create(name: string, actor: Actor): Promise<JoinTokenRecord & { secret: string }> {
    const secret = PREFIX + randomBytes(32).toString('base64url');
    const record = await this.tokens.create({
      id: newId('join'),
      name,
      prefix: secret.slice(0, PREFIX.length + 6),
      secretHash: hashTokenSecret(secret),
    });
    await this.audit.record(actor, { action: 'join_token.create', targetType: 'join_token', targetId: record.id, data: { name } });
    return { ...record, secret };
  }

  /** The active token for a presented secret, or null. */
  async resolve(secret: string): Promise<JoinTokenRecord | null> {
    const token = await this.tokens.findBySecretHash(hashTokenSecret(secret));
    return token && !token.revokedAt ? token : null;
  }

  list(): Promise<JoinTokenRecord[]> {
    return this.tokens.list();
  }

  async revoke(id: string, actor: Actor): Promise<JoinTokenRecord> {
    const token = await this.tokens.findById(id);
    if (!token) throw ApiError.notFound('join token', id);
    if (token.revokedAt) return token;
    const revoked = await this.tokens.revoke(id, new Date());
    await this.audit.record(actor, { action: 'join_token.revoke', targetType: 'join_token', targetId: id, data: { name: token.name } });
    return revoked;
  }
}
