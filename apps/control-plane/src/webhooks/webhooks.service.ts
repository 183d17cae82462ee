import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { WebhookDeliveriesRepository, type DeliveryRecord } from './webhook-deliveries.repository';
import { WebhookDeliveryService } from './webhook-delivery.service';
import { DEFAULT_WEBHOOK_EVENTS, type WebhookEvent } from './webhook-events';
import { newWebhookId } from './webhook-ids';
import { newWebhookSecret } from './webhook-signature';
import { WebhooksRepository, type WebhookRecord } from './webhooks.repository';

/** A team's webhooks and their delivery logs; another team's webhook does not exist (404). */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly sender: WebhookDeliveryService,
  ) {}

  create(teamId: string, url: string, events: WebhookEvent[] = DEFAULT_WEBHOOK_EVENTS): Promise<WebhookRecord> {
    return this.webhooks.create({ id: newWebhookId(), teamId, url, secret: newWebhookSecret(), events: [...new Set(events)] });
  }

  list(teamId: string, after: string | undefined, limit: number): Promise<WebhookRecord[]> {
    return this.webhooks.listForTeam(teamId, after, limit + 1);
  }

  async get(teamId: string, id: string): Promise<WebhookRecord> {
    const webhook = await this.webhooks.findForTeam(teamId, id);
    if (!webhook) throw ApiError.notFound('webhook', id);
    return webhook;
  }

  /** Its delivery log goes with it; attempts in flight finish unrecorded. */
  async delete(teamId: string, id: string): Promise<void> {
    if (!(await this.webhooks.delete(teamId, id))) throw ApiError.notFound('webhook', id);
  }

  async listDeliveries(teamId: string, id: string, after: string | undefined, limit: number): Promise<DeliveryRecord[]> {
    await this.get(teamId, id);
    return this.deliveries.list(id, after, limit + 1);
  }

  /** Sends a failed (or delivered) delivery again, with a fresh retry schedule. */
  async redeliver(teamId: string, id: string, deliveryId: string): Promise<DeliveryRecord> {
    await this.get(teamId, id);
    const delivery = await this.deliveries.redeliver(id, deliveryId);
    if (!delivery) {
      if (await this.deliveries.find(id, deliveryId)) throw new ApiError('conflict', `delivery '${deliveryId}' is still pending`);
      throw ApiError.notFound('delivery', deliveryId);
    }
    this.sender.wake();
    return delivery;
  }
}
