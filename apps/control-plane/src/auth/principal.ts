import type { Role } from '@grove/contracts';

/** Who is calling: resolved from the bearer token by the auth guard. */
export interface Principal {
  tokenId: string;
  teamId: string;
  role: Role;
}

export interface AuthenticatedRequest {
  principal?: Principal;
}
