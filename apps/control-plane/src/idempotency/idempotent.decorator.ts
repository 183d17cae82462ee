import { applyDecorators, UseInterceptors } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { IdempotencyInterceptor } from './idempotency.interceptor';

/** Marks a POST route as honouring the Idempotency-Key header (write it above any file interceptor, so it runs after). */
export const Idempotent = () =>
  applyDecorators(
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description: 'Retries with the same key and body return the first response; another body gives 409.',
    }),
    UseInterceptors(IdempotencyInterceptor),
  );
