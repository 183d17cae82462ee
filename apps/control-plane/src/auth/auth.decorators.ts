import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Role } from '@grove/contracts';
import type { AuthenticatedRequest, Principal } from './principal';

export const PUBLIC_ROUTE = 'grove:public';
export const REQUIRED_ROLE = 'grove:role';

/** No token needed (health checks, API docs). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/** The least role a route needs; routes without it need any valid token. */
export const RequireRole = (role: Role) => SetMetadata(REQUIRED_ROLE, role);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('route has no principal: is it marked @Public()?');
  return principal;
});
