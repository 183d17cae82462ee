import { Controller, Get, HttpCode, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type IORedis from 'ioredis';
import { Public } from '../auth/auth.decorators';
import { ApiError } from '../common/api-error';
import { PrismaService } from '../database/prisma.service';
import { REDIS } from '../database/redis.provider';

const CHECK_TIMEOUT_MS = 2_000;

@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(REDIS) private readonly redis: IORedis,
  ) {}

  /** The process is up. */
  @Get('healthz')
  @HttpCode(200)
  healthz() {
    return { status: 'ok' };
  }

  /** Postgres and Redis answer: the instance can take traffic. */
  @Get('readyz')
  async readyz() {
    const [postgres, redis] = await Promise.all([
      check(() => this.prisma.$queryRaw`SELECT 1`),
      check(() => this.redis.ping()),
    ]);
    const checks = { postgres, redis };
    if (postgres !== 'ok' || redis !== 'ok') {
      throw new ApiError('unavailable', `not ready: postgres ${postgres}, redis ${redis}`, null, checks);
    }
    return { status: 'ok', checks };
  }
}

async function check(probe: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([probe(), timeout]);
    return 'ok';
  } catch (error) {
    return `down (${(error as Error).message})`;
  } finally {
    clearTimeout(timer);
  }
}
