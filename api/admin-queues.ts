import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { errorHandler as bullBoardErrorHandler } from '@bull-board/api/dist/handlers/error.js';
import { FastifyAdapter } from '@bull-board/fastify';
import { Queue } from 'bullmq';
import { stringifySetCookie } from 'cookie';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { isDvxError } from '../errors/index.js';
import type { Logger } from '../log/logger.js';
import { POLICY_QUEUE } from '../workers/policy-queue.js';
import { MAINTENANCE_QUEUE } from '../workers/durable-engine.js';
import { HEALTH_QUEUE } from '../workers/health-monitor.js';
import { WEBHOOK_QUEUE } from '../workers/webhook-dispatcher.js';
import { REQUEST_QUEUE } from '../model/request-queue.js';
import { QUEUE_PREFIX, STEP_QUEUE } from '../workers/step-job.js';
import { BROWSER_AUTH_PATH, TOKEN_COOKIE } from './auth.js';
import { errorHandler } from './http-error.js';
import { showRun } from '../services/runs.js';
import type { ServiceContext } from '../services/service-context.js';

/** Every BullMQ queue of an engine (all under {@link QUEUE_PREFIX}); a test checks that no other queue shows up in Redis. */
export const ENGINE_QUEUE_NAMES = [
  STEP_QUEUE,
  POLICY_QUEUE,
  MAINTENANCE_QUEUE,
  HEALTH_QUEUE,
  REQUEST_QUEUE.name,
  WEBHOOK_QUEUE,
] as const;

const DESCRIPTIONS: Record<string, string> = {
  [STEP_QUEUE]: 'Lifecycle steps: one job per step execution; each links to its run.',
  [POLICY_QUEUE]: 'Policy fires (SnapSync, VDB snapshot, refresh schedules) and bookmark expiry.',
  [MAINTENANCE_QUEUE]: 'The reconciler: re-enqueues steps of running runs whose job went missing.',
  [HEALTH_QUEUE]: 'The health monitor: host reachability and dSource/VDB status checks.',
  [REQUEST_QUEUE.name]:
    'Lifecycle requests from other programs: each carried out through its REST route; completes with its run.',
  [WEBHOOK_QUEUE]:
    'Webhook deliveries: one job per delivery, retried with backoff, in order per subscription and object.',
};

/** Queue handles for every engine queue on a Redis client (which stays the caller's to close). */
export function engineQueues(redis: Redis, logger: Logger): Queue[] {
  return ENGINE_QUEUE_NAMES.map((name) => {
    const queue = new Queue(name, { connection: redis, prefix: QUEUE_PREFIX });
    queue.on('error', (error) => logger.warn({ err: error.message, queue: name }, 'redis connection problem'));
    return queue;
  });
}

/** The run a job belongs to: a step job carries it in its data; a policy fire returns the run it started. */
function runIdOfJob(job: { data?: unknown; returnvalue?: unknown }): string | null {
  const data = job.data as { runId?: unknown } | null | undefined;
  if (typeof data?.runId === 'string') return data.runId;
  const value = job.returnvalue as { runId?: unknown; run?: { id?: unknown } } | null | undefined;
  if (typeof value?.runId === 'string') return value.runId;
  if (typeof value?.run?.id === 'string') return value.run.id;
  return null;
}

/** Where a job's run can be read in a browser signed in to the board (the cookie only reaches {@link BROWSER_AUTH_PATH}). */
const runLink = (runId: string) => `${BROWSER_AUTH_PATH}/runs/${encodeURIComponent(runId)}`;

/** Options of {@link adminQueues}. */
export interface AdminQueuesOptions {
  ctx: ServiceContext;
  queues: Queue[];
  logger: Logger;
}

/**
 * bull-board at /admin/queues behind the engine's auth. A browser signs in once with `/admin/queues?token=<token>`:
 * the token goes into an HttpOnly, SameSite=Strict cookie scoped to /admin/queues and the browser is sent on to the
 * same page without it. GETs need a viewer; bull-board's mutating API (retry, clean, pause, remove, ...) needs an
 * operator, so a viewer sees the board and its buttons are refused with 403. Each step job shows its run id in its
 * name and links to `/admin/queues/runs/<id>`, the run with its timeline as JSON.
 */
export function adminQueues(app: FastifyInstance, options: AdminQueuesOptions): void {
  app.register(
    async (scope) => {
      // bull-board answers errors in its own shape and maps everything without a statusCode to 500; auth errors
      // (401/403) thrown by the engine's hook must keep their status and the engine's shape.
      const dvxErrors = errorHandler(options.logger);
      scope.addHook('onRoute', (route) => {
        route.errorHandler ??= (error: FastifyError, request, reply) => {
          if (isDvxError(error)) {
            dvxErrors(error, request, reply);
            return;
          }
          const answer = bullBoardErrorHandler(error as Parameters<typeof bullBoardErrorHandler>[0]);
          void reply.status(answer.status ?? 500).send(answer.body);
        };
      });
      scope.addHook('onRequest', async (request, reply) => {
        const query = request.query as { token?: unknown };
        if (request.method !== 'GET' || typeof query.token !== 'string' || request.headers.authorization) return;
        // The engine's auth hook accepted the token already; keep it in a cookie and drop it from the address bar.
        const url = new URL(request.url, 'http://engine');
        url.searchParams.delete('token');
        const cookie = stringifySetCookie({
          name: TOKEN_COOKIE,
          value: query.token,
          path: BROWSER_AUTH_PATH,
          httpOnly: true,
          sameSite: 'strict',
          secure: request.protocol === 'https',
        });
        return reply
          .header('set-cookie', cookie)
          .header('cache-control', 'no-store')
          .redirect(`${url.pathname}${url.search}`, 303);
      });

      scope.get<{ Params: { id: string } }>('/runs/:id', { schema: { hide: true } }, async (request) => ({
        run: await showRun(options.ctx, request.params.id),
      }));

      const adapter = new FastifyAdapter();
      adapter.setBasePath(BROWSER_AUTH_PATH);
      const boards = options.queues.map((queue) => {
        const board = new BullMQAdapter(queue, {
          description: DESCRIPTIONS[queue.name] ?? '',
          externalJobUrl: (job) => {
            const runId = runIdOfJob(job);
            // No link for a job without a run (bull-board's type wants one; its UI shows none for undefined).
            return runId ? { displayText: `run ${runId}`, href: runLink(runId) } : (undefined as never);
          },
        });
        board.setFormatter('name', (job: { name?: string; data?: unknown; returnvalue?: unknown }) => {
          const runId = runIdOfJob(job);
          return runId ? `${job.name ?? ''} (run ${runId})` : (job.name ?? '');
        });
        return board;
      });
      createBullBoard({ queues: boards, serverAdapter: adapter, options: { uiConfig: { boardTitle: 'dvx queues' } } });
      await scope.register(adapter.registerPlugin());
    },
    { prefix: BROWSER_AUTH_PATH },
  );
}
