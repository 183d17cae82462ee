import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { CurrentPrincipal } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { pageQuerySchema, toPage } from '../common/pagination';
import { Idempotent } from '../idempotency/idempotent.decorator';
import { isWebhookEvent, WEBHOOK_EVENTS, type WebhookEvent } from './webhook-events';
import { presentDelivery, presentNewWebhook, presentWebhook } from './webhook.presenter';
import { WebhooksService } from './webhooks.service';

const webhookEvent = z
  .string()
  .refine(isWebhookEvent, (value) => ({ message: `unknown event '${value}'; events are ${WEBHOOK_EVENTS.join(', ')}` }))
  .transform((value) => value as WebhookEvent);

class CreateWebhookDto extends createZodDto(
  z
    .object({
      url: z
        .string()
        .max(2048)
        .url()
        .refine((url) => /^https?:$/.test(new URL(url).protocol), 'must be an http or https URL'),
      events: z.array(webhookEvent).min(1).max(WEBHOOK_EVENTS.length * 4).optional(),
    })
    .strict(),
) {}
class PageQueryDto extends createZodDto(pageQuerySchema) {}

@ApiTags('webhooks')
@ApiBearerAuth()
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  /** Job notifications for the caller's team; the response is the only one that shows the signing `secret`. */
  @Post()
  @Idempotent()
  async create(@Body() body: CreateWebhookDto, @CurrentPrincipal() principal: Principal) {
    return presentNewWebhook(await this.webhooks.create(principal.teamId, body.url, body.events));
  }

  @Get()
  async list(@Query() query: PageQueryDto, @CurrentPrincipal() principal: Principal) {
    return toPage(await this.webhooks.list(principal.teamId, query.after, query.limit), query.limit, presentWebhook);
  }

  @Get(':id')
  async get(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    return presentWebhook(await this.webhooks.get(principal.teamId, id));
  }

  @Delete(':id')
  @HttpCode(200)
  async delete(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    await this.webhooks.delete(principal.teamId, id);
    return { id, object: 'webhook', deleted: true };
  }

  /** Newest first: each delivery's status, attempts and last result. */
  @Get(':id/deliveries')
  async deliveries(@Param('id') id: string, @Query() query: PageQueryDto, @CurrentPrincipal() principal: Principal) {
    const rows = await this.webhooks.listDeliveries(principal.teamId, id, query.after, query.limit);
    return toPage(rows, query.limit, presentDelivery);
  }

  @Post(':id/deliveries/:deliveryId/redeliver')
  @HttpCode(200)
  @Idempotent()
  async redeliver(@Param('id') id: string, @Param('deliveryId') deliveryId: string, @CurrentPrincipal() principal: Principal) {
    return presentDelivery(await this.webhooks.redeliver(principal.teamId, id, deliveryId));
  }
}
