import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { newId } from '../common/ids';
import { TeamNameTakenError, TeamsRepository, type TeamRecord } from './teams.repository';

@Injectable()
export class TeamsService {
  constructor(private readonly teams: TeamsRepository) {}

  async create(name: string): Promise<TeamRecord> {
    try {
      return await this.teams.create({ id: newId('team'), name });
    } catch (error) {
      if (error instanceof TeamNameTakenError) throw new ApiError('conflict', `team '${name}' already exists`, 'name');
      throw error;
    }
  }

  list(): Promise<TeamRecord[]> {
    return this.teams.list();
  }

  async get(id: string): Promise<TeamRecord> {
    const team = await this.teams.findById(id);
    if (!team) throw ApiError.notFound('team', id);
    return team;
  }

  /** The team of that name, created if missing (used to bootstrap the first admin). */
  async ensure(name: string): Promise<TeamRecord> {
    return (await this.teams.findByName(name)) ?? this.create(name);
  }
}
