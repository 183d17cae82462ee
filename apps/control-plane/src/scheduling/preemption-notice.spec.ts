import { describe, expect, it } from 'vitest';
import { preemptionNotice } from './preemption-notice';

describe(preemptionNotice.name, () => {
  it('names the job that needed the room, and says when it outranks the preempted one', () => {
    const notice = preemptionNotice({ jobId: 'low', gpuId: 'n1/0', forJobId: 'high' }, { priority: 0 }, { priority: 2 });

    expect(notice).toEqual({
      message: 'Preempted to make room for job high (higher priority)',
      data: { reason: 'preempted', for_job_id: 'high' },
    });
    expect(preemptionNotice({ jobId: 'a', gpuId: 'n1/0', forJobId: 'b' }, { priority: 1 }, { priority: 1 }).message).toBe(
      'Preempted to make room for job b',
    );
  });

  it('says a job is moving to a faster GPU when it is preempted for itself', () => {
    const notice = preemptionNotice({ jobId: 'long', gpuId: 'a100/0', forJobId: 'long', toGpuId: 'h100/0' }, { priority: 1 }, { priority: 1 });

    expect(notice).toEqual({
      message: 'Moving to the faster idle GPU h100/0, where it is predicted to finish sooner',
      data: { reason: 'moving_to_faster_gpu', to_gpu_id: 'h100/0' },
    });
  });
});
