import { status, type ServiceError } from '@grpc/grpc-js';
import type { ReportJobEventRequest } from '@grove/proto';
import type { Logger } from 'pino';
import type { AgentRpc } from '../control-plane/agent-rpc.client';

type JobEvent = NonNullable<ReportJobEventRequest['event']>;

const ATTEMPTS = 5;
const RETRY_BASE_MS = 500;
const TRANSIENT = new Set([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.RESOURCE_EXHAUSTED, status.INTERNAL]);

/** Sends job lifecycle reports, retrying while the control plane is briefly unreachable. */
export class JobReporter {
  constructor(
    private readonly rpc: AgentRpc,
    private readonly log: Logger,
  ) {}

  /** True when the control plane accepted the report; false means the agent must drop the job. */
  async report(nodeId: string, jobId: string, attempt: number, event: JobEvent): Promise<boolean> {
    for (let i = 1; ; i++) {
      try {
        const res = await this.rpc.reportJobEvent({ nodeId, jobId, attempt, event });
        if (!res.accepted) this.log.warn({ jobId, attempt, event: event.$case, reason: res.reason }, 'report refused; dropping the job');
        return res.accepted;
      } catch (e) {
        const code = (e as ServiceError).code;
        if (i >= ATTEMPTS || !TRANSIENT.has(code)) throw e;
        this.log.warn({ jobId, attempt, event: event.$case, err: (e as Error).message }, 'report failed; retrying');
        await new Promise((r) => setTimeout(r, RETRY_BASE_MS * 2 ** (i - 1)));
      }
    }
  }
}
