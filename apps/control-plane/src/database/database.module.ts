import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import type IORedis from 'ioredis';
import type { Pool } from 'pg';
import { PrismaService } from './prisma.service';
import { REDIS, redisProvider } from './redis.provider';
import { SQL_POOL, sqlPoolProvider } from './sql-pool';

@Global()
@Module({ providers: [PrismaService, redisProvider, sqlPoolProvider], exports: [PrismaService, REDIS, SQL_POOL] })
export class DatabaseModule implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: IORedis,
    @Inject(SQL_POOL) private readonly pool: Pool,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }
}
