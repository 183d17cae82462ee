import { Injectable } from '@nestjs/common';
import { Prisma } from '@prisma/client';
import { PrismaService } from '../database/prisma.service';

export interface TeamRecord {
  id: string;
  name: string;
  createdAt: Date;
}

export class TeamNameTakenError extends Error {}

@Injectable()
export class TeamsRepository {
  constructor(private readonly prisma: PrismaService) {}

  async create(team: { id: string; name: string }): Promise<TeamRecord> {
    try {
      return await this.prisma.team.create({ data: team });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        throw new TeamNameTakenError(team.name);
      }
      throw error;
    }
  }

  findById(id: string): Promise<TeamRecord | null> {
    return this.prisma.team.findUnique({ where: { id } });
  }

  findByName(name: string): Promise<TeamRecord | null> {
    return this.prisma.team.findUnique({ where: { name } });
  }

  list(): Promise<TeamRecord[]> {
    return this.prisma.team.findMany({ orderBy: { id: 'desc' } });
  }
}
