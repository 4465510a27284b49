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

/** Options of an action route that takes no fields: a body, if any, is an empty object (unknown fields refused). */
export const NO_FIELDS = {
  schema: { body: { type: ['object', 'null'], additionalProperties: false, properties: {} } },
} as const;
