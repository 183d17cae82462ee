/** One BullMQ queue per GPU; messages carry ids only (docs/agent-protocol.md). */
export type GpuMessageKind = 'start' | 'cancel' | 'preempt';

export interface GpuMessage {
  kind: GpuMessageKind;
  jobId: string;
  attempt: number;
}

export function gpuQueueName(nodeId: string, gpuIndex: number): string {
  return `grove-gpu-${nodeId}-${gpuIndex}`;
}

/** BullMQ job id of a message: a duplicate send of the same message collapses into one delivery. */
export function gpuMessageId(message: GpuMessage): string {
  return `${message.kind}-${message.jobId}-${message.attempt}`;
}
