import type { Principal } from '../auth/principal';

/** Who did an audited action: the API token and its team. */
export interface Actor {
  tokenId: string;
  teamId: string;
}

export function actorOf(principal: Principal): Actor {
  return { tokenId: principal.tokenId, teamId: principal.teamId };
}

export interface AuditEventRecord {
  id: string;
  actorTokenId: string | null;
  actorTeamId: string | null;
  action: string;
  targetType: string;
  targetId: string;
  data: unknown;
  createdAt: Date;
}

export interface NewAuditEvent {
  action: string;
  targetType: string;
  targetId: string;
  data?: Record<string, unknown>;
}
