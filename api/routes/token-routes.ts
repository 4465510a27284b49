import type { FastifyInstance } from 'fastify';
import { DvxError, NotFoundError, ValidationError } from '../../errors/index.js';
import { isRole, ROLES, type TokenStore } from '../../model/token-store.js';
import { checkSafeText } from '../../schemas/safe-text.js';
import { NAME_SCHEMA } from './actor.js';

/**
 * /tokens (admin only): create (the secret is in the answer, once, and nowhere else), list (never secrets),
 * revoke (the token stops working at once).
 */
export function tokenRoutes(app: FastifyInstance, tokens: TokenStore): void {
  // Who the caller is (any role): the web console shows only what the role may do.
  app.get('/whoami', async (request) => {
    const caller = request.caller;
    // The authentication hook sets it on every route that is not public; this one is not.
    if (!caller) throw new DvxError({ code: 'UNAUTHORIZED', message: 'This request needs an API token.' });
    return { token: { id: caller.id, name: caller.name, role: caller.role, createdAt: caller.createdAt } };
  });
  app.post<{ Body: { role: string; name?: string } }>(
    '/tokens',
    {
      config: { role: 'admin' },
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['role'],
          // The role is checked by hand so that a wrong one is answered with the allowed values.
          properties: { role: { type: 'string', description: `one of ${ROLES.join(', ')}` }, name: NAME_SCHEMA },
        },
      },
    },
    async (request, reply) => {
      const { role, name } = request.body;
      if (!isRole(role)) {
        throw new ValidationError(
          `Unknown role "${role}": use ${ROLES.join(', ')}.`,
          [{ pointer: '/role', message: `must be one of ${ROLES.join(', ')}` }],
          { action: `Give a role among ${ROLES.join(', ')}.` },
        );
      }
      if (name !== undefined) checkSafeText(name, '/name', 'Token name');
      const created = await tokens.create(name ?? role, role);
      return reply.status(201).send({ token: created.record, secret: created.token });
    },
  );
  app.get('/tokens', { config: { role: 'admin' } }, async () => ({
    tokens: (await tokens.list()).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id)),
  }));
  app.delete<{ Params: { id: string } }>('/tokens/:id', { config: { role: 'admin' } }, async (request) => {
    const revoked = await tokens.revoke(request.params.id);
    if (!revoked)
      throw new NotFoundError(
        'token',
        request.params.id,
        'List tokens with `dvx token list` and use one of their ids.',
      );
    return { token: revoked };
  });
}
