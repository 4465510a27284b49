import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DvxError, toDvxError, ValidationError, type ErrorCode } from '../errors/index.js';
import type { Logger } from '../log/logger.js';

const STATUS: Partial<Record<ErrorCode, number>> = {
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  OBJECT_LOCKED: 409,
  HAS_DEPENDENTS: 409,
  CONFLICT: 409,
  REDIS_UNAVAILABLE: 503,
  // 507 Insufficient Storage (RFC 4918): the server cannot store what the request needs. Not 409: nothing is wrong
  // with the request or its object, and the same request succeeds unchanged once space is freed.
  STORAGE_FREE_SPACE_LOW: 507,
};

/** The HTTP status for an error code; host, plugin and storage failures of a synchronous request are 502. */
export function statusOf(error: DvxError): number {
  return STATUS[error.code] ?? (/^(HOST|PLUGIN|STORAGE|MOUNT)_/.test(error.code) ? 502 : 500);
}

/** Fastify's own schema validation failures become dvx validation errors with JSON pointers. */
function fromFastifyValidation(error: FastifyError): ValidationError | null {
  if (!error.validation) return null;
  const issues = error.validation.map((issue) => {
    const params = issue.params as { missingProperty?: string; additionalProperty?: string } | undefined;
    const field = params?.missingProperty ?? params?.additionalProperty;
    const pointer = `${issue.instancePath}${field ? `/${field.replace(/~/g, '~0').replace(/\//g, '~1')}` : ''}`;
    const message = params?.additionalProperty ? 'is not a known field' : (issue.message ?? 'is invalid');
    return { pointer, message };
  });
  const where = error.validationContext ?? 'body';
  const summary = issues.map((issue) => `${issue.pointer || '/'} ${issue.message}`).join('; ');
  return new ValidationError(`Invalid request ${where}: ${summary}.`, issues, {
    action: 'Fix the fields named above and send the request again.',
  });
}

/** One error shape for every route: `{ error: { code, message, action?, output?, details? } }`. */
export function errorHandler(logger: Logger) {
  return (raw: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const error =
      fromFastifyValidation(raw) ??
      (raw.statusCode === 415 ||
      raw.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ||
      raw.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
      raw.code === 'FST_ERR_CTP_INVALID_JSON_BODY'
        ? new ValidationError(raw.message, [{ pointer: '', message: raw.message }], {
            action: 'Send a JSON body with Content-Type: application/json.',
          })
        : toDvxError(raw));
    const status = statusOf(error);
    // A 503 is a dependency being down (said once by the engine's own lines) and a 507 a full pool: a state of the
    // engine for its operator, not a fault of this request.
    if (status === 503 || status === 507)
      logger.warn({ err: error.message, code: error.code, url: request.url }, 'request refused');
    else if (status >= 500) logger.error({ err: error.toJSON({ stack: true }), url: request.url }, 'request failed');
    void reply.status(status).send({ error: error.toJSON() });
  };
}
