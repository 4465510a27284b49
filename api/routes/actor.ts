import type { FastifyRequest } from 'fastify';
import type { Actor } from '../../services/service-context.js';

/** The authenticated caller, as runs record who asked. */
export function actorOf(request: FastifyRequest): Actor {
  return { name: request.caller?.name ?? 'unknown' };
}

/** Params of routes on one object, addressed by id or name. */
export interface RefParams {
  Params: { ref: string };
}

export const NAME_SCHEMA = { type: 'string', minLength: 1, maxLength: 63 } as const;
export const PARAMETERS_SCHEMA = { type: 'object' } as const;
