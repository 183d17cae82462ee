import { Worker } from 'bullmq';
import IORedis from 'ioredis';
import { gpuQueueName } from '@grove/contracts';
import { parseDispatchMessage, type DispatchMessage } from './dispatch-message';

export type DispatchHandler = (gpuIndex: number, message: DispatchMessage) => Promise<void>;

/** How the agent receives work: it consumes its GPUs' queues until closed. */
export interface DispatchConsumer {
  start(nodeId: string, gpuIndexes: number[], handler: DispatchHandler): Promise<void>;
  close(): Promise<void>;
}

/** Starts may wait on downloads and engine start-up, and a cancel must not queue behind them. */
const MESSAGES_IN_FLIGHT_PER_GPU = 8;

/** One BullMQ worker per GPU queue; a message completes once the handler has acted on it. */
export class BullmqDispatchConsumer implements DispatchConsumer {
  private workers: Worker[] = [];
  private connection: IORedis | null = null;

  constructor(
    private readonly redisUrl: string,
    private readonly log: (msg: string, err?: unknown) => void,
  ) {}

  async start(nodeId: string, gpuIndexes: number[], handler: DispatchHandler): Promise<void> {
    await this.close();
    // Workers block on Redis; BullMQ requires unlimited retries on their connection.
    this.connection = new IORedis(this.redisUrl, { maxRetriesPerRequest: null });
    this.workers = gpuIndexes.map((gpu) => {
      const worker = new Worker(gpuQueueName(nodeId, gpu), (job) => handler(gpu, parseDispatchMessage(job.data)), {
        connection: this.connection as IORedis,
        concurrency: MESSAGES_IN_FLIGHT_PER_GPU,
      });
      worker.on('failed', (job, err) => this.log(`dispatch message ${job?.id} failed: ${err.message}`, err));
      worker.on('error', (err) => this.log(`dispatch worker error: ${err.message}`, err));
      return worker;
    });
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
  }

  /** Stops taking messages; waits for the ones being handled. */
  async close(): Promise<void> {
    const workers = this.workers;
    this.workers = [];
    await Promise.all(workers.map((w) => w.close()));
    if (this.connection) await this.connection.quit().catch(() => undefined);
    this.connection = null;
  }
}
