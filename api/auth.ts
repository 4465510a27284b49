import { parseCookie } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DvxError } from '../errors/index.js';
import type { Role, TokenRecord, TokenStore } from '../model/token-store.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling, once authenticated (set also when the role check then refuses the request). */
    caller?: TokenRecord;
  }
  interface FastifyContextConfig {
    /** The least role a route needs. @defaultValue 'viewer' for GET, 'operator' otherwise */
    role?: Role;
    /** No authentication (only /health). */
    public?: boolean;
  }
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** Whether a caller of role `have` may do what needs role `need`. */
export function allows(have: Role, need: Role): boolean {
  return RANK[have] >= RANK[need];
}

/** Where a browser may authenticate with a cookie (or a `?token=` query that sets it): the bull-board UI only. */
export const BROWSER_AUTH_PATH = '/admin/queues';
/** The HttpOnly cookie holding the API token of a browser session on {@link BROWSER_AUTH_PATH}. */
export const TOKEN_COOKIE = 'dvx_token';

/** The least role a request needs: the route's own, or viewer for a read and operator for anything else. */
export function neededRole(method: string, config: { role?: Role }): Role {
  return config.role ?? (method === 'GET' || method === 'HEAD' ? 'viewer' : 'operator');
}

/** Whether a request is for {@link BROWSER_AUTH_PATH} or below it. */
function isBrowserAuthPath(url: string): boolean {
  const path = url.split('?', 1)[0] ?? url;
  return path === BROWSER_AUTH_PATH || path.startsWith(`${BROWSER_AUTH_PATH}/`);
}

function tokenOf(request: FastifyRequest): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  if (bearer || !isBrowserAuthPath(request.url)) return bearer;
  const query = (request.query as { token?: unknown } | undefined)?.token;
  if (typeof query === 'string' && query) return query;
  return request.headers.cookie ? parseCookie(request.headers.cookie)[TOKEN_COOKIE] : undefined;
}

/** Bearer-token authentication on every route but the public ones, and role checks per route. */
export function authenticate(tokens: TokenStore) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const config = request.routeOptions.config;
    if (config.public) return;
    const token = tokenOf(request);
    if (!token) {
      throw new DvxError({
        code: 'UNAUTHORIZED',
        message: 'This request needs an API token.',
        action:
          'Send "Authorization: Bearer <token>". The admin token is in <data dir>/admin.token; dvx reads it for you.',
      });
    }
    const caller = await tokens.verify(token);
    if (!caller)
      throw new DvxError({
        code: 'UNAUTHORIZED',
        message: 'The API token is not valid.',
        action: 'Use a token created by this engine (dvx token create, or <data dir>/admin.token).',
      });
    request.caller = caller;
    const need = neededRole(request.method, config);
    if (!allows(caller.role, need)) {
      throw new DvxError({
        code: 'FORBIDDEN',
        message: `A ${caller.role} token cannot do this; it needs the ${need} role.`,
        action: `Ask an admin for a token with the ${need} role.`,
      });
    }
  };
}
