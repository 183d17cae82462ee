import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { ApiError } from '../common/api-error';
import { JoinTokensService } from '../nodes/join-tokens.service';

export interface AgentRequest {
  joinTokenId?: string;
}

/** Agent HTTP routes: a valid node join token instead of an API token. */
@Injectable()
export class JoinTokenGuard implements CanActivate {
  constructor(private readonly joinTokens: JoinTokensService) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<Request & AgentRequest>();
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!match) throw new ApiError('unauthenticated', 'missing join token (Authorization: Bearer <join token>)');
    const token = await this.joinTokens.resolve(match[1]!);
    if (!token) throw new ApiError('unauthenticated', 'invalid or revoked join token');
    req.joinTokenId = token.id;
    return true;
  }
}
