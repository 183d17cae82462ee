import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hashTokenSecret } from '../auth/token-secret';
import { ApiError } from '../common/api-error';
import { newId } from '../common/ids';
import { JoinTokensRepository, type JoinTokenRecord } from './join-tokens.repository';

const PREFIX = 'grove_join_';

/** Node join tokens: what an agent presents to register and report. Stored hashed, like API tokens. */
@Injectable()
export class JoinTokensService {
  constructor(private readonly tokens: JoinTokensRepository) {}

  async create(name: string): Promise<JoinTokenRecord & { secret: string }> {
    const secret = PREFIX + randomBytes(32).toString('base64url');
    const record = await this.tokens.create({
      id: newId('join'),
      name,
      prefix: secret.slice(0, PREFIX.length + 6),
      secretHash: hashTokenSecret(secret),
    });
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

  async revoke(id: string): Promise<JoinTokenRecord> {
    const token = await this.tokens.findById(id);
    if (!token) throw ApiError.notFound('join token', id);
    return token.revokedAt ? token : this.tokens.revoke(id, new Date());
  }
}
