import { Injectable } from '@nestjs/common';
import type { Role } from '@grove/contracts';
import { PrismaService } from '../database/prisma.service';

export interface TokenRecord {
  id: string;
  teamId: string;
  name: string;
  role: Role;
  prefix: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

const PUBLIC_FIELDS = {
  id: true, teamId: true, name: true, role: true, prefix: true, createdAt: true, expiresAt: true, revokedAt: true,
} as const;

@Injectable()
export class TokensRepository {
  constructor(private readonly prisma: PrismaService) {}

  findBySecretHash(secretHash: string): Promise<TokenRecord | null> {
    return this.prisma.apiToken.findUnique({ where: { secretHash }, select: PUBLIC_FIELDS });
  }

  create(token: Omit<TokenRecord, 'createdAt' | 'revokedAt'> & { secretHash: string }): Promise<TokenRecord> {
    return this.prisma.apiToken.create({ data: token, select: PUBLIC_FIELDS });
  }

  list(): Promise<TokenRecord[]> {
    return this.prisma.apiToken.findMany({ orderBy: { id: 'desc' }, select: PUBLIC_FIELDS });
  }

  findById(id: string): Promise<TokenRecord | null> {
    return this.prisma.apiToken.findUnique({ where: { id }, select: PUBLIC_FIELDS });
  }

  async revoke(id: string, at: Date): Promise<TokenRecord> {
    return this.prisma.apiToken.update({ where: { id }, data: { revokedAt: at }, select: PUBLIC_FIELDS });
  }

  countAdmins(): Promise<number> {
    return this.prisma.apiToken.count({ where: { role: 'admin', revokedAt: null } });
  }
}
