import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { DvxError, ValidationError } from '../errors/index.js';
import type { Logger } from '../log/logger.js';
import {
  openToken,
  REQUEST_QUEUE,
  requestPrivateKey,
  type RequestJobData,
  type RequestJobResult,
} from '../model/request-queue.js';
import type { ServiceContext } from '../services/service-context.js';

/** Options of {@link startRequestWorker}. */
export interface RequestWorkerOptions {
  /** The REST API: every request goes through its route (authentication, role, validation, audit). */
  app: FastifyInstance;
  ctx: ServiceContext;
  /** A dedicated connection for the worker (blocking commands). */
  connection: Redis;
  logger: Logger;
  /** Requests taken up at once (each mostly waits for its run). @defaultValue 32 */
  concurrency?: number;
  /** How often a request waiting for its run reads it when no end event arrived. @defaultValue 1000 */
  pollMs?: number;
}

type Route = { method: 'POST' | 'DELETE'; path: string; body: boolean };

/** What each operation is on the REST API; `:ref` is `params.ref`, and the rest of `params` is the body. */
export const REQUEST_OPERATIONS: Readonly<Record<string, Route>> = {
  'vdb.provision': { method: 'POST', path: '/vdbs', body: true },
  'vdb.refresh': { method: 'POST', path: '/vdbs/:ref/refresh', body: true },
  'vdb.rewind': { method: 'POST', path: '/vdbs/:ref/rewind', body: true },
  'vdb.snapshot': { method: 'POST', path: '/vdbs/:ref/snapshot', body: true },
  'vdb.start': { method: 'POST', path: '/vdbs/:ref/start', body: true },
  'vdb.stop': { method: 'POST', path: '/vdbs/:ref/stop', body: true },
  'vdb.enable': { method: 'POST', path: '/vdbs/:ref/enable', body: true },
  'vdb.disable': { method: 'POST', path: '/vdbs/:ref/disable', body: true },
  'vdb.delete': { method: 'DELETE', path: '/vdbs/:ref', body: false },
  'dsource.link': { method: 'POST', path: '/dsources', body: true },
  'dsource.sync': { method: 'POST', path: '/dsources/:ref/sync', body: true },
  'dsource.enable': { method: 'POST', path: '/dsources/:ref/enable', body: true },
  'dsource.disable': { method: 'POST', path: '/dsources/:ref/disable', body: true },
  'dsource.delete': { method: 'DELETE', path: '/dsources/:ref', body: false },
};

/** The REST request of a queued one: method, URL and body; a ValidationError for an unknown operation or no ref. */
export function restRequestOf(data: RequestJobData): { method: 'POST' | 'DELETE'; url: string; body?: unknown } {
  const route = Object.hasOwn(REQUEST_OPERATIONS, data.operation) ? REQUEST_OPERATIONS[data.operation] : undefined;
  if (!route)
    throw new ValidationError(`Unknown operation "${String(data.operation)}".`, [
      { pointer: '/operation', message: `is not one of ${Object.keys(REQUEST_OPERATIONS).join(', ')}` },
    ]);
  const params = data.params && typeof data.params === 'object' ? data.params : {};
  const { ref, ...body } = params;
  let url = route.path;
  if (url.includes(':ref')) {
    if (typeof ref !== 'string' || ref === '')
      throw new ValidationError(`Operation ${data.operation} needs params.ref: the id or name of the object.`, [
        { pointer: '/params/ref', message: 'missing' },
      ]);
    url = url.replace(':ref', encodeURIComponent(ref));
  } else if (ref !== undefined) {
    body.ref = ref; // not a field of this route: its schema refuses it, naming it
  }
  return route.body ? { method: route.method, url, body } : { method: route.method, url };
}

function failure(error: DvxError): Error {
  const message = JSON.stringify({
    code: error.code,
    message: error.message,
    ...(error.action ? { action: error.action } : {}),
    ...(error.details ? { details: error.details } : {}),
  });
  // A retryable refusal (Redis unavailable) may go again if the producer gave attempts; any other is final.
  return error.retryable ? new Error(message) : new UnrecoverableError(message);
}

/**
 * Takes up lifecycle requests from the `dvx-requests` queue: opens the sealed token, sends the request through the
 * REST route itself (`app.inject`: the same authentication, role check, schema validation, service call and audit
 * line, from address `queue:<job id>`), then replaces the job's data with the run id (the sealed token leaves Redis),
 * waits for the run to end, and completes with its outcome. A refusal fails the job with an UnrecoverableError whose
 * message is the refusal's JSON (`code`, `message`, `action`).
 */
export async function startRequestWorker(
  options: RequestWorkerOptions,
): Promise<Worker<RequestJobData, RequestJobResult>> {
  const { app, ctx, logger } = options;
  const privateKey = await requestPrivateKey(ctx.model.redis, ctx.secrets);
  const pollMs = options.pollMs ?? 1_000;

  // One listener for every waiting request: runs ending in this process wake theirs at once; the others (ended by
  // another engine) are seen at the next read.
  const waiting = new Map<string, Set<() => void>>();
  const onEnded = (runId: string) => {
    for (const wake of waiting.get(runId) ?? []) wake();
  };
  ctx.driver.events.on('ended', onEnded);

  async function outcome(runId: string): Promise<RequestJobResult> {
    for (;;) {
      let wake = () => {};
      const ended = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      const wakers = waiting.get(runId) ?? new Set<() => void>();
      waiting.set(runId, wakers.add(wake));
      try {
        const run = await ctx.model.runs.get(runId);
        if (!run) throw new UnrecoverableError(JSON.stringify({ code: 'NOT_FOUND', message: `Run ${runId} is gone.` }));
        if (run.status !== 'running') {
          return {
            runId,
            status: run.status,
            objectType: run.objectType,
            objectId: run.objectId,
            ...(run.error
              ? {
                  error: {
                    code: run.error.code,
                    message: run.error.message,
                    ...(run.error.action ? { action: run.error.action } : {}),
                  },
                }
              : {}),
          };
        }
        await ended;
      } finally {
        wake(); // clears the timer
        wakers.delete(wake);
        if (wakers.size === 0) waiting.delete(runId);
      }
    }
  }

  async function take(job: Job<RequestJobData, RequestJobResult>): Promise<RequestJobResult> {
    const data = job.data;
    // Taken up again after an engine stopped while waiting: the run is started already.
    if (data.runId) return outcome(data.runId);
    let request: ReturnType<typeof restRequestOf>;
    let token: string;
    try {
      if (!job.id) throw new ValidationError('The request job has no id.', [{ pointer: '/jobId', message: 'missing' }]);
      if (!data.token)
        throw new DvxError({
          code: 'UNAUTHORIZED',
          message: 'This request carries no sealed token.',
          action: 'Build the job data with requestJob() (dvx/queue), which seals your API token for the engine.',
        });
      token = openToken(privateKey, data.token, { jobId: job.id, operation: data.operation, params: data.params });
      request = restRequestOf(data);
    } catch (error) {
      throw failure(
        error instanceof DvxError ? error : new DvxError({ code: 'VALIDATION_FAILED', message: String(error) }),
      );
    }
    const answer = await app.inject({
      method: request.method,
      url: request.url,
      headers: { authorization: `Bearer ${token}`, ...(request.body ? { 'content-type': 'application/json' } : {}) },
      ...(request.body ? { payload: JSON.stringify(request.body) } : {}),
      remoteAddress: `queue:${job.id}`,
    });
    const body = answer.json<{ run?: { id?: string }; error?: unknown }>();
    if (answer.statusCode >= 400) throw failure(DvxError.fromJSON(body.error));
    const runId = body.run?.id;
    if (!runId) throw failure(new DvxError({ code: 'INTERNAL', message: `${data.operation} answered without a run.` }));
    await job.updateData({ operation: data.operation, params: data.params, runId });
    logger.info({ jobId: job.id, operation: data.operation, runId }, 'queued request started its run');
    return outcome(runId);
  }

  const worker = new Worker<RequestJobData, RequestJobResult>(REQUEST_QUEUE.name, take, {
    connection: options.connection,
    prefix: REQUEST_QUEUE.prefix,
    concurrency: options.concurrency ?? 32,
  });
  worker.on('error', (error) => logger.warn({ err: error.message }, 'request queue worker problem'));
  worker.on('closed', () => ctx.driver.events.off('ended', onEnded));
  return worker;
}
