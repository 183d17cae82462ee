import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';

export interface JoinTokenRecord {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  revokedAt: Date | null;
}

const PUBLIC_FIELDS = { id: true, name: true, prefix: true, createdAt: true, revokedAt: true } as const;

@Injectable()
export class JoinTokensRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(token: { id: string; name: string; prefix: string; secretHash: string }): Promise<JoinTokenRecord> {
    return this.prisma.joinToken.create({ data: token, select: PUBLIC_FIELDS });
  }

  findBySecretHash(secretHash: string): Promise<JoinTokenRecord | null> {
    return this.prisma.joinToken.findUnique({ where: { secretHash }, select: PUBLIC_FIELDS });
  }

  findById(id: string): Promise<JoinTokenRecord | null> {
    return this.prisma.joinToken.findUnique({ where: { id }, select: PUBLIC_FIELDS });
  }

  list(): Promise<JoinTokenRecord[]> {
    return this.prisma.joinToken.findMany({ orderBy: { id: 'desc' }, select: PUBLIC_FIELDS });
  }

  revoke(id: string, at: Date): Promise<JoinTokenRecord> {
    return this.prisma.joinToken.update({ where: { id }, data: { revokedAt: at }, select: PUBLIC_FIELDS });
  }
}
