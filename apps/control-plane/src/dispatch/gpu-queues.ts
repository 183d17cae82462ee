import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { gpuMessageId, gpuQueueName, type GpuMessage } from '@grove/contracts';
import { Queue } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { redisConnection } from '../database/redis-connection';

/** Producer for the per-GPU dispatch queues. Fails fast when Redis is down; the dispatcher re-sends later. */
@Injectable()
export class GpuQueues implements OnApplicationShutdown {
  private readonly queues = new Map<string, Queue<GpuMessage>>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async send(nodeId: string, gpuIndex: number, message: GpuMessage): Promise<void> {
    await this.queue(gpuQueueName(nodeId, gpuIndex)).add(message.kind, message, {
      jobId: gpuMessageId(message),
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 1000 },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    // A connection Redis already dropped cannot say goodbye; closing must not fail shutdown.
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
  }

  private queue(name: string): Queue<GpuMessage> {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue<GpuMessage>(name, {
        connection: redisConnection(this.config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }),
      });
      queue.on('error', () => undefined); // connection errors surface on add(); the dispatcher retries
      this.queues.set(name, queue);
    }
    return queue;
  }
}
