import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { roleAtLeast, type Role } from '@grove/contracts';
import type { Request } from 'express';
import { ApiError } from '../common/api-error';
import { PUBLIC_ROUTE, REQUIRED_ROLE } from './auth.decorators';
import type { AuthenticatedRequest } from './principal';
import { TokensService } from './tokens.service';

/** Bearer-token authentication (401) then role authorisation (403), for every route not marked @Public(). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokensService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const req = ctx.switchToHttp().getRequest<Request & AuthenticatedRequest>();
    const header = req.headers.authorization;
    if (!header) throw new ApiError('unauthenticated', 'missing bearer token (Authorization: Bearer <token>)');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new ApiError('unauthenticated', 'malformed Authorization header, expected "Bearer <token>"');
    const principal = await this.tokens.resolve(match[1]!);
    if (!principal) throw new ApiError('unauthenticated', 'invalid, expired or revoked token');
    req.principal = principal;
    const needed = this.reflector.getAllAndOverride<Role | undefined>(REQUIRED_ROLE, targets);
    if (needed && !roleAtLeast(principal.role, needed)) {
      throw new ApiError('permission_denied', `this action needs the ${needed} role`);
    }
    return true;
  }
}
