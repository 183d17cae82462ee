import type { DispatchMessage } from '../dispatch/dispatch-message';
import type { DispatchConsumer, DispatchHandler } from '../dispatch/gpu-queues.consumer';

/** Delivers dispatch messages straight to the agent's handler, as its BullMQ workers would. */
export class InMemoryDispatch implements DispatchConsumer {
  nodeId: string | null = null;
  private gpus: number[] = [];
  private handler: DispatchHandler | null = null;

  async start(nodeId: string, gpuIndexes: number[], handler: DispatchHandler): Promise<void> {
    this.nodeId = nodeId;
    this.gpus = gpuIndexes;
    this.handler = handler;
  }

  async close(): Promise<void> {
    this.handler = null;
  }

  deliver(gpuIndex: number, message: DispatchMessage): Promise<void> {
    if (!this.handler || !this.gpus.includes(gpuIndex)) throw new Error(`no consumer for GPU ${gpuIndex}`);
    return this.handler(gpuIndex, message);
  }
}
