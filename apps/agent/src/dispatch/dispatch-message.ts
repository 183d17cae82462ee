import type { GpuMessage } from '@grove/contracts';
import { z } from 'zod';

export type DispatchMessage = GpuMessage;

const messageSchema = z.object({
  kind: z.enum(['start', 'cancel', 'preempt']),
  jobId: z.string().min(1),
  attempt: z.number().int().min(1),
});

export class DispatchMessageError extends Error {
  readonly code = 'bad_dispatch_message';
}

export function parseDispatchMessage(data: unknown): DispatchMessage {
  const parsed = messageSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new DispatchMessageError(`dispatch message refused (${problems}): ${JSON.stringify(data).slice(0, 200)}`);
  }
  return parsed.data;
}
