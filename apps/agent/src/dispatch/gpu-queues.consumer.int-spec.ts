import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpuMessageId, gpuQueueName } from '@grove/contracts';
import type { DispatchMessage } from './dispatch-message';
import { BullmqDispatchConsumer } from './gpu-queues.consumer';
import { eventually } from '../testing/eventually';

function redisUrl(): string {
  const url = process.env['TEST_REDIS_URL'];
  if (!url) throw new Error('TEST_REDIS_URL must be set: run the tests with `make test`');
  return url;
}

describe(BullmqDispatchConsumer.name, () => {
  const nodeId = `node_dispatch_${process.pid}_${Date.now()}`;
  let connection: IORedis;
  let queues: Queue[];
  const errors: string[] = [];
  const sut = new BullmqDispatchConsumer(redisUrl(), (msg) => errors.push(msg));

  beforeAll(() => {
    connection = new IORedis(redisUrl(), { maxRetriesPerRequest: null });
    queues = [0, 1].map((gpu) => new Queue(gpuQueueName(nodeId, gpu), { connection }));
  });
  afterAll(async () => {
    await sut.close();
    for (const q of queues) await q.obliterate({ force: true }).then(() => q.close());
    await connection.quit();
  });

  it("delivers each GPU queue's messages to the handler once, with the GPU index", async () => {
    const seen: [number, DispatchMessage][] = [];
    await sut.start(nodeId, [0, 1], async (gpu, message) => {
      seen.push([gpu, message]);
    });
    const start: DispatchMessage = { kind: 'start', jobId: 'job_1', attempt: 3 };
    await queues[0].add('start', start, { jobId: gpuMessageId(start) });
    await queues[0].add('start', start, { jobId: gpuMessageId(start) });
    await queues[1].add('preempt', { kind: 'preempt', jobId: 'job_2', attempt: 1 }, { jobId: 'preempt-job_2-1' });
    await eventually(() => expect(seen).toHaveLength(2));
    expect(seen).toContainEqual([0, start]);
    expect(seen).toContainEqual([1, { kind: 'preempt', jobId: 'job_2', attempt: 1 }]);
    await eventually(async () => expect(await queues[0].getJobState(gpuMessageId(start))).toBe('completed'));
  });

  it('fails a message it cannot read, naming the problem', async () => {
    await queues[1].add('start', { kind: 'explode', jobId: 'job_3' }, { jobId: 'bad-1' });
    await eventually(() => expect(errors.some((e) => e.includes('bad-1') && e.includes('kind'))).toBe(true));
  });
});
