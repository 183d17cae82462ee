import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { ErrorBody, ErrorCode } from '@grove/contracts';
import type { Response } from 'express';
import { ZodValidationException } from 'nestjs-zod';
import type { ZodError } from 'zod';
import { ApiError } from './api-error';

const HTTP_CODES: Record<number, ErrorCode> = {
  400: 'invalid_request',
  401: 'unauthenticated',
  403: 'permission_denied',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  422: 'unprocessable',
  503: 'unavailable',
};

/** One error shape everywhere: `{error: {code, message, param}}` (+ `details` where a list helps). */
@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const { status, body } = this.render(exception);
    if (status >= 500) this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(status).json(body);
  }

  private render(exception: unknown): { status: number; body: ErrorBody & { error: { details?: unknown } } } {
    if (exception instanceof ApiError) {
      const error = { code: exception.code, message: exception.message, param: exception.param };
      return { status: exception.status, body: { error: exception.details ? { ...error, details: exception.details } : error } };
    }
    if (exception instanceof ZodValidationException) {
      const issue = (exception.getZodError() as ZodError).issues[0];
      const param = issue?.path.length ? issue.path.join('.') : null;
      const message = issue ? `${param ?? 'body'}: ${issue.message}` : 'invalid request';
      return { status: 400, body: { error: { code: 'invalid_request', message, param } } };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = HTTP_CODES[status] ?? (status >= 500 ? 'internal' : 'invalid_request');
      return { status, body: { error: { code, message: httpMessage(exception), param: null } } };
    }
    return { status: 500, body: { error: { code: 'internal', message: 'internal error', param: null } } };
  }
}

function httpMessage(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : exception.message;
}
