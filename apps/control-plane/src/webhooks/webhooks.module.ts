import { Module } from '@nestjs/common';
import { JobEventsModule } from '../jobs/job-events.module';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { WebhookDeliveryService } from './webhook-delivery.service';
import { WebhookFanoutRepository } from './webhook-fanout.repository';
import { WebhookFanoutService } from './webhook-fanout.service';
import { WebhookSender } from './webhook-sender';
import { WebhooksController } from './webhooks.controller';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

/** Team webhooks: the API, the fan-out from the job-event log, and the signed deliveries with retries. */
@Module({
  imports: [JobEventsModule],
  controllers: [WebhooksController],
  providers: [
    WebhooksRepository, WebhookDeliveriesRepository, WebhookFanoutRepository, WebhookSender,
    WebhooksService, WebhookDeliveryService, WebhookFanoutService,
  ],
})
export class WebhooksModule {}
