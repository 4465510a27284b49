import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ValidationError } from '../../errors/index.js';
import type { Logger } from '../../log/logger.js';
import type { AuditLog } from '../../model/audit-log.js';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Answers bigger than this are not read for a run id or an error code. */
const MAX_PARSED_ANSWER = 1024 * 1024;

/** The run id and error code an answer carries (`{ run: { id } }`, `{ error: { code } }`), read from its JSON. */
function outcomeOf(payload: unknown): { runId: string | null; errorCode: string | null } {
  const none = { runId: null, errorCode: null };
  if (typeof payload !== 'string' || payload.length > MAX_PARSED_ANSWER || !payload.startsWith('{')) return none;
  try {
    const answer = JSON.parse(payload) as { run?: { id?: unknown }; error?: { code?: unknown } };
    return {
      runId: typeof answer.run?.id === 'string' ? answer.run.id : null,
      errorCode: typeof answer.error?.code === 'string' ? answer.error.code : null,
    };
  } catch {
    return none;
  }
}

function paramsOf(request: FastifyRequest): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries((request.params ?? {}) as Record<string, unknown>)) {
    if (typeof value === 'string') params[name] = value.slice(0, 200);
  }
  return params;
}

/**
 * Writes every mutating request (POST, PUT, PATCH, DELETE), allowed or refused, authenticated or not, to the audit
 * log before its answer leaves: who (token id, name, role, address), what (method, route pattern, path parameters,
 * the run it started), and the outcome (status, error code). Bodies and query strings are never recorded, so
 * neither is a secret sent in them. A failure to write is logged and does not fail the request.
 */
/** How long an answer waits for its audit entry to be written. */
export const AUDIT_WRITE_TIMEOUT_MS = 2_000;

export function recordMutations(app: FastifyInstance, audit: AuditLog, logger: Logger): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (!MUTATING.has(request.method)) return payload;
    const caller = request.caller;
    let timer: NodeJS.Timeout | undefined;
    try {
      // A Redis that is connected but stalled would hold the answer forever: the refusal goes out, the entry may follow.
      const late = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer from Redis within ${AUDIT_WRITE_TIMEOUT_MS} ms`)),
          AUDIT_WRITE_TIMEOUT_MS,
        );
      });
      await Promise.race([
        late,
        audit.record({
          actor: {
            tokenId: caller?.id ?? null,
            name: caller?.name ?? null,
            role: caller?.role ?? null,
            ip: request.ip,
          },
          method: request.method,
          route: request.routeOptions.url ?? request.url.split('?', 1)[0] ?? request.url,
          params: paramsOf(request),
          status: reply.statusCode,
          ...outcomeOf(payload),
        }),
      ]);
    } catch (error) {
      logger.warn(
        { err: (error as Error).message, method: request.method, route: request.routeOptions.url },
        'could not write the audit log',
      );
    } finally {
      clearTimeout(timer);
    }
    return payload;
  });
}

interface AuditQuerystring {
  limit?: number;
  since?: string;
  actor?: string;
}

/** GET /audit (admin): the audit log, newest first, filtered by time and actor (token id or name). */
export function auditRoutes(app: FastifyInstance, audit: AuditLog): void {
  app.get<{ Querystring: AuditQuerystring }>(
    '/audit',
    {
      config: { role: 'admin' },
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 100 },
            since: { type: 'string', minLength: 1, description: 'ISO 8601 time: only entries at or after it' },
            actor: { type: 'string', minLength: 1, description: 'token id or token name' },
          },
        },
      },
    },
    async (request) => {
      const { limit, since, actor } = request.query;
      const sinceMs = since === undefined ? undefined : Date.parse(since);
      if (Number.isNaN(sinceMs)) {
        throw new ValidationError(
          `"since" is not a time: "${since}".`,
          [{ pointer: '/since', message: 'not an ISO 8601 time' }],
          { action: 'Give a time such as 2026-01-31T12:00:00Z.' },
        );
      }
      return { entries: await audit.list({ limit, sinceMs, actor }) };
    },
  );
}
