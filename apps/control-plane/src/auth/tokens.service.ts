import { Injectable } from '@nestjs/common';
import type { Role } from '@grove/contracts';
import type { Actor } from '../audit/audit-event';
import { AuditRepository } from '../audit/audit.repository';
import { ApiError } from '../common/api-error';
import { newId } from '../common/ids';
import { TeamsService } from '../teams/teams.service';
import type { Principal } from './principal';
import { displayPrefix, hashTokenSecret, newTokenSecret } from './token-secret';
import { TokensRepository, type TokenRecord } from './tokens.repository';

const CACHE_TTL_MS = 5_000;

/** Issues, resolves and revokes API tokens. Resolution is cached briefly; revocation here clears the cache at once. */
@Injectable()
export class TokensService {
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>();

  constructor(
    private readonly tokens: TokensRepository,
    private readonly teams: TeamsService,
    private readonly audit: AuditRepository,
  ) {}

  /** A new token; `actor` (absent for the bootstrap admin) is recorded in the audit log. */
  async issue(input: { teamId: string; name: string; role: Role; expiresAt?: Date }, actor?: Actor): Promise<TokenRecord & { secret: string }> {
    await this.teams.get(input.teamId);
    const secret = newTokenSecret();
    const record = await this.tokens.create({
      id: newId('tok'),
      teamId: input.teamId,
      name: input.name,
      role: input.role,
      prefix: displayPrefix(secret),
      secretHash: hashTokenSecret(secret),
      expiresAt: input.expiresAt ?? null,
    });
    if (actor) await this.audit.record(actor, { action: 'token.create', targetType: 'token', targetId: record.id, data: { name: input.name, role: input.role, team_id: input.teamId } });
    return { ...record, secret };
  }

  async resolve(secret: string, now = new Date()): Promise<Principal | null> {
    const hash = hashTokenSecret(secret);
    const cached = this.cache.get(hash);
    if (cached && cached.until > now.getTime()) return cached.principal;
    const token = await this.tokens.findBySecretHash(hash);
    const valid = token && !token.revokedAt && (!token.expiresAt || token.expiresAt > now);
    const principal = valid ? { tokenId: token.id, teamId: token.teamId, role: token.role } : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { principal, until: now.getTime() + CACHE_TTL_MS });
    return principal;
  }

  list(): Promise<TokenRecord[]> {
    return this.tokens.list();
  }

  async revoke(id: string, actor: Actor): Promise<TokenRecord> {
    const token = await this.tokens.findById(id);
    if (!token) throw ApiError.notFound('token', id);
    if (token.revokedAt) return token;
    const revoked = await this.tokens.revoke(id, new Date());
    this.cache.clear();
    await this.audit.record(actor, { action: 'token.revoke', targetType: 'token', targetId: id, data: { name: token.name } });
    return revoked;
  }

  /** Creates an admin token for the named team unless an active admin token exists (or `force`). */
  async bootstrapAdmin(teamName: string, force: boolean): Promise<(TokenRecord & { secret: string }) | null> {
    if (!force && (await this.tokens.countAdmins()) > 0) return null;
    const team = await this.teams.ensure(teamName);
    return this.issue({ teamId: team.id, name: 'bootstrap admin', role: 'admin' });
  }
}
