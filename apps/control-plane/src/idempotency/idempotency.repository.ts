import { Injectable } from '@nestjs/common';
import { Prisma } from '@prisma/client';
import { PrismaService } from '../database/prisma.service';

export interface IdempotencyRecord {
  requestHash: string;
  status: number | null;
  body: unknown;
}

@Injectable()
export class IdempotencyRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Claims the key for a new request; returns the existing record instead when the key was used before. */
  async claim(tokenId: string, key: string, requestHash: string): Promise<IdempotencyRecord | 'claimed'> {
    try {
      await this.prisma.idempotencyRecord.create({ data: { tokenId, key, requestHash } });
      return 'claimed';
    } catch (error) {
      if (!(error instanceof Prisma.PrismaClientKnownRequestError) || error.code !== 'P2002') throw error;
      const existing = await this.find(tokenId, key);
      return existing ?? this.claim(tokenId, key, requestHash);
    }
  }

  find(tokenId: string, key: string): Promise<IdempotencyRecord | null> {
    return this.prisma.idempotencyRecord.findUnique({
      where: { tokenId_key: { tokenId, key } },
      select: { requestHash: true, status: true, body: true },
    });
  }

  async complete(tokenId: string, key: string, status: number, body: unknown): Promise<void> {
    await this.prisma.idempotencyRecord.update({
      where: { tokenId_key: { tokenId, key } },
      data: { status, body: body as Prisma.InputJsonValue },
    });
  }

  async release(tokenId: string, key: string): Promise<void> {
    await this.prisma.idempotencyRecord.deleteMany({ where: { tokenId, key, status: null } });
  }

  async deleteOlderThan(cutoff: Date): Promise<number> {
    return (await this.prisma.idempotencyRecord.deleteMany({ where: { createdAt: { lt: cutoff } } })).count;
  }
}
