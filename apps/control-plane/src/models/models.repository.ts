import { Injectable } from '@nestjs/common';
import { Prisma } from '@prisma/client';
import { PrismaService } from '../database/prisma.service';
import type { ModelSummary } from './model-config';

export interface BaseModelRecord {
  id: string;
  name: string;
  architecture: string;
  modelType: string;
  config: unknown;
  summary: ModelSummary;
  configKey: string;
  tokenizerKey: string;
  tokenizerCfgKey: string;
  createdAt: Date;
}

export class ModelNameTakenError extends Error {}

@Injectable()
export class ModelsRepository {
  constructor(private readonly prisma: PrismaService) {}

  async create(model: Omit<BaseModelRecord, 'createdAt'>): Promise<BaseModelRecord> {
    try {
      const row = await this.prisma.baseModel.create({
        data: { ...model, config: model.config as Prisma.InputJsonValue, summary: model.summary as unknown as Prisma.InputJsonValue },
      });
      return toRecord(row);
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') throw new ModelNameTakenError(model.name);
      throw error;
    }
  }

  async findByIdOrName(idOrName: string): Promise<BaseModelRecord | null> {
    const row = await this.prisma.baseModel.findFirst({ where: { OR: [{ id: idOrName }, { name: idOrName }] } });
    return row ? toRecord(row) : null;
  }

  async list(after: string | undefined, take: number): Promise<BaseModelRecord[]> {
    const rows = await this.prisma.baseModel.findMany({
      where: after ? { id: { lt: after } } : {},
      orderBy: { id: 'desc' },
      take,
    });
    return rows.map(toRecord);
  }
}

function toRecord(row: Prisma.BaseModelGetPayload<object>): BaseModelRecord {
  return { ...row, summary: row.summary as unknown as ModelSummary };
}
