import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import type IORedis from 'ioredis';
import { PrismaService } from './prisma.service';
import { REDIS, redisProvider } from './redis.provider';

@Global()
@Module({ providers: [PrismaService, redisProvider], exports: [PrismaService, REDIS] })
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: IORedis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}
