/** member: own team's datasets and jobs; operator: also base models (later nodes); admin: also teams and tokens. */
export const ROLES = ['member', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const RANK: Record<Role, number> = { member: 0, operator: 1, admin: 2 };

export function roleAtLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}
