import { ERROR_STATUS, type ErrorCode } from '@grove/contracts';

/** A failure with a stable code; the exception filter renders it as `{error: {code, message, param}}`. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly param: string | null = null,
    readonly details?: unknown,
  ) {
    super(message);
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  static notFound(what: string, id: string, param: string | null = null): ApiError {
    return new ApiError('not_found', `${what} '${id}' not found`, param);
  }
}
