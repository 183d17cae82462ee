import { Module } from '@nestjs/common';
import { JobEventsListener } from './job-events.listener';

/** The one LISTEN connection on job events, shared by the jobs API (SSE streams) and the webhook fan-out. */
@Module({ providers: [JobEventsListener], exports: [JobEventsListener] })
export class JobEventsModule {}
