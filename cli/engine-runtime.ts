import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { redisProbe, redisUnavailableError, storageProbe, type HealthInputs } from '../api/health.js';
import { buildServer } from '../api/server.js';
import { startRequestWorker } from '../api/request-queue-worker.js';
import { expireBookmarks } from '../services/bookmarks.js';
import { firePolicy, reconcilePolicySchedulers } from '../services/policies/index.js';
import { pruneRuns, runRetentionFromEnv } from '../services/runs.js';
import type { ServiceContext } from '../services/service-context.js';
import { toDvxError } from '../errors/index.js';
import type { Logger } from '../log/logger.js';
import { DvxModel } from '../model/dvx-model.js';
import { EventLog, type EventLogOptions } from '../model/event-log.js';
import { EventPublisher } from '../workers/event-publisher.js';
import { WebhookDispatcher, type WebhookDispatcherOptions } from '../workers/webhook-dispatcher.js';
import { startEmbeddedRedis, superviseEmbeddedRedis, type RedisSupervisor } from '../model/embedded-redis.js';
import { createRedisClient } from '../model/redis-clients.js';
import { RedisHeartbeat } from '../model/redis-heartbeat.js';
import { describeRedisTarget, parseRedisUrl, type RedisTarget } from '../model/redis-target.js';
import { SecretBox } from '../model/secret-box.js';
import { TokenStore } from '../model/token-store.js';
import { runBash, SshConnectionPool } from '../hosts/index.js';
import { RunnerPool } from '../operations/index.js';
import {
  BindMountTransport,
  openStorage,
  PoolSpace,
  SftpServer,
  SshfsMountTransport,
  type FreeSpaceFloor,
  type SftpServerOptions,
  type StorageBackend,
} from '../storage/index.js';
import { DurableEngine, type DurableEngineOpenOptions } from '../workers/durable-engine.js';
import { PolicyScheduler } from '../workers/policy-scheduler.js';
import { policyQueue } from '../workers/policy-queue.js';
import { HealthMonitor, type HealthMonitorOptions } from '../workers/health-monitor.js';
import { createStepHandlers, type PluginCallOptions, type StepServices } from '../workers/steps/index.js';
import type { StepHandlers } from '../workers/step-handler.js';
import { ADMIN_TOKEN_FILE, ENGINE_INFO_FILE, type EngineInfo } from './engine-client.js';
import { packageRoot, packageVersion } from './package-info.js';

/** Options of {@link startEngineRuntime}. */
export interface EngineRuntimeOptions {
  dataDir: string;
  /** Redis URL; the embedded Redis of the data dir when absent. */
  redisUrl?: string;
  /** Where the API listens. @defaultValue '127.0.0.1' */
  host?: string;
  /** API port; 0 picks a free one. @defaultValue 7433 */
  port?: number;
  logger: Logger;
  /** Builds the step handlers once the runtime's services exist. @defaultValue every lifecycle step of dvx */
  handlers?: (services: {
    ctx: ServiceContext;
    redis: Redis;
    dataDir: string;
    steps: StepServices;
  }) => StepHandlers | Promise<StepHandlers>;
  /** Storage to use instead of the data dir's pool (opened, or created on first start). */
  storage?: StorageBackend;
  /**
   * Free space the pool keeps: below it, requests (and steps) that would make a snapshot, clone or dataset are
   * refused with STORAGE_FREE_SPACE_LOW. `{ bytes: 0 }` turns it off.
   * @defaultValue 5% of the pool size
   */
  storageFloor?: FreeSpaceFloor;
  /** Options of plugin operation calls. @defaultValue code cached in `<dataDir>/plugin-cache`, warm runners on */
  plugins?: PluginCallOptions;
  /** Health monitoring and auto-recovery; `false` turns it off. @defaultValue on, with its defaults */
  health?: HealthMonitorOptions | false;
  engine?: Omit<DurableEngineOpenOptions, 'redis' | 'logger'>;
  /**
   * The SFTP server that serves engine storage to hosts mounted with sshfs (docs/remote-hosts.md).
   * @defaultValue in `<dataDir>/sftp`, port 7422 on every address
   */
  sftp?: Omit<SftpServerOptions, 'dir' | 'logger'> & { dir?: string };
  /**
   * Runs that ended more than this many days ago are deleted (with their logs, steps and index entries) by the
   * engine's minutely maintenance job, except the last run an object's record names; 0 keeps every run.
   * @defaultValue `DVX_RUN_RETENTION_DAYS` (a number, or `off`), else 30
   */
  runRetentionDays?: number;
  /** The event stream (`dvx:events`). @defaultValue about 100000 events kept */
  events?: EventLogOptions;
  /** Webhook delivery: attempts, backoff, timeout. @defaultValue 8 attempts from 1 s doubling, 10 s timeout */
  webhooks?: Pick<WebhookDispatcherOptions, 'attempts' | 'backoffMs' | 'timeoutMs'>;
}

/** A running engine: Redis, workers, API. */
export interface EngineRuntime {
  dataDir: string;
  redis: RedisTarget;
  url: string;
  ctx: ServiceContext;
  durable: DurableEngine;
  api: FastifyInstance;
  /** The SFTP server of sshfs mounts: a daemon of its own, which {@link stop} leaves running (mounts outlive the engine). */
  sftp: SftpServer;
  stop(deadlineMs?: number): Promise<void>;
}

/** The admin token of the data dir: created with the engine's first start, recreated if Redis lost it. */
async function ensureAdminToken(tokens: TokenStore, dataDir: string): Promise<void> {
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  try {
    const existing = (await readFile(path, 'utf8')).trim();
    if (await tokens.verify(existing)) return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const { token } = await tokens.create('admin', 'admin');
  await writeFile(path, `${token}\n`, { mode: 0o600 });
}

/**
 * Starts everything an engine process runs and writes `<dataDir>/engine.json` for local commands. The composition
 * root: the one place that builds the model, the engine's driver, the services on both, the step handlers and the
 * workers, each from what was built before it (tests and benchmarks start engines through it too).
 */
export async function startEngineRuntime(options: EngineRuntimeOptions): Promise<EngineRuntime> {
  const { dataDir, logger } = options;
  // Read first: a bad DVX_RUN_RETENTION_DAYS refuses the start before anything is started.
  const runRetentionDays = options.runRetentionDays ?? runRetentionFromEnv();
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  let target: RedisTarget;
  // The embedded Redis is the engine's to keep up: restarted when it dies. A Redis given by URL is the operator's.
  let supervisor: RedisSupervisor | null = null;
  if (options.redisUrl) {
    target = parseRedisUrl(options.redisUrl);
  } else {
    const embedded = await startEmbeddedRedis({ dataDir, logger });
    target = embedded.target;
    logger.info({ pid: embedded.pid, reused: embedded.reused }, 'embedded redis ready');
    supervisor = superviseEmbeddedRedis(embedded, { dataDir, logger: logger.child({ component: 'redis' }) });
  }
  const redis = createRedisClient(target, 'store');
  redis.on('error', (error) => logger.warn({ err: error.message }, 'redis connection problem'));
  // One line per change of state; the repeated connection errors of every client are counted by the logger.
  let closing = false;
  let redisDownSince: number | null = null;
  redis.on('close', () => {
    if (closing || redisDownSince !== null) return;
    redisDownSince = Date.now();
    logger.warn({ redis: describeRedisTarget(target) }, 'redis unreachable: API requests get 503 until it is back');
  });
  redis.on('ready', () => {
    if (redisDownSince === null) return;
    logger.info({ redis: describeRedisTarget(target), downMs: Date.now() - redisDownSince }, 'redis reachable again');
    redisDownSince = null;
  });
  const redisAction = supervisor
    ? `The engine restarts its embedded Redis by itself: send the request again in a few seconds. If this persists, read ${join(dataDir, 'redis', 'redis.log')}.`
    : `Check that the Redis at ${describeRedisTarget(target)} is running and reachable from the engine, then send the request again.`;
  const model = new DvxModel(redis);
  const secrets = await SecretBox.forDataDir(dataDir);
  const tokens = new TokenStore(redis);
  await ensureAdminToken(tokens, dataDir);

  const storage = options.storage ?? (await openStorage({ dataDir, logger }));
  const space = new PoolSpace(storage, options.storageFloor);
  const hosts = new SshConnectionPool({ logger: logger.child({ component: 'ssh' }) });
  const sftp = new SftpServer({
    dir: join(dataDir, 'sftp'),
    ...options.sftp,
    logger: logger.child({ component: 'sftp' }),
  });
  // Mounts made before a reboot of this machine reconnect once their server is back; it starts with the first
  // sshfs mount otherwise. It is a daemon of its own: stopping the engine leaves it serving the mounts.
  if ((await sftp.exportIds()).length > 0) {
    await sftp
      .start()
      .catch((error: unknown) =>
        logger.warn({ err: toDvxError(error).message }, 'sftp server did not start: sshfs mounts cannot reconnect'),
      );
  }
  const warmRunners = options.plugins?.warmRunners;
  const runners =
    warmRunners === false
      ? undefined
      : new RunnerPool({ ...warmRunners, logger: logger.child({ component: 'plugins' }) });
  const steps: StepServices = {
    model,
    secrets,
    storage,
    space,
    mounts: new BindMountTransport({ runBash }),
    sshfs: new SshfsMountTransport({ runBash, server: sftp, logger: logger.child({ component: 'sshfs' }) }),
    hosts,
    logger,
    // Plugin code is cached in this engine's data dir, never in a directory other engines share.
    plugins: { cacheDir: join(dataDir, 'plugin-cache'), ...options.plugins },
    ...(runners ? { runners } : {}),
  };

  // In order, each built whole from what comes before: the engine's driver, the services on it, the step handlers
  // (which may use both), then the workers that run them.
  const durable = await DurableEngine.open({ ...options.engine, redis: target, logger });
  const ctx: ServiceContext = { model, driver: durable.driver, secrets, logger, storage, space, hosts };
  const events = new EventPublisher({
    driver: durable.driver,
    model,
    log: new EventLog(redis, options.events),
    logger: logger.child({ component: 'events' }),
  });
  const webhookClient = createRedisClient(target, 'worker');
  webhookClient.on('error', (error) => logger.warn({ err: error.message }, 'redis connection problem'));
  const webhooks =
    options.engine?.runWorkers === false
      ? null
      : new WebhookDispatcher({
          ...options.webhooks,
          model,
          secrets,
          queueClient: redis,
          workerClient: webhookClient,
          logger: logger.child({ component: 'webhooks' }),
        });
  if (webhooks) events.onEvent((event) => webhooks.dispatch(event));
  try {
    const handlers = options.handlers
      ? await options.handlers({ ctx, redis, dataDir, steps })
      : createStepHandlers(steps);
    if (options.engine?.runWorkers !== false) await durable.startWorkers(handlers);
  } catch (error) {
    await durable.stop({ deadlineMs: 0 });
    await runners?.close();
    throw error;
  }
  // Policy fires go through the service layer, so the scheduler's worker is wired here rather than in workers/.
  const policies =
    options.engine?.runWorkers === false
      ? null
      : await PolicyScheduler.start({
          redis: target,
          queueClient: redis,
          fire: (data) => firePolicy(ctx, data),
          maintain: async () => ({
            bookmarks: await expireBookmarks(ctx),
            runs: await pruneRuns(ctx, runRetentionDays),
          }),
          reconcile: () => reconcilePolicySchedulers(ctx),
          logger: logger.child({ component: 'policies' }),
        });
  // Queues share their client's errors; one without a listener prints them as raw stack blocks.
  if (policies)
    policyQueue(redis).on('error', (error) => logger.warn({ err: error.message }, 'redis connection problem'));
  const healthClient = createRedisClient(target, 'worker');
  healthClient.on('error', (error) => logger.warn({ err: error.message }, 'redis connection problem'));
  const health =
    options.health === false
      ? null
      : new HealthMonitor(steps, durable.driver, logger.child({ component: 'health' }), options.health);
  await health?.start(healthClient);

  // A Redis that is connected but does not answer (stopped, overloaded) leaves the connection ready: only an
  // unanswered PING shows it, and requests are refused meanwhile instead of hanging.
  const heartbeat = new RedisHeartbeat(redis);
  heartbeat.start();
  const healthInputs: HealthInputs = {
    probes: {
      redis: redisProbe(redis, () => {
        if (!supervisor) return { details: { target: describeRedisTarget(target), embedded: false } };
        const state = supervisor.state();
        return {
          details: { target: describeRedisTarget(target), embedded: true, ...state },
          ...(state.running ? {} : { action: redisAction }),
        };
      }),
      storage: storageProbe(space),
      workers: () => {
        const liveness = durable.liveness();
        const down = liveness.running < liveness.workers || (liveness.workers > 0 && !liveness.redisReady);
        return down
          ? {
              status: 'down',
              error: liveness.redisReady ? 'a worker stopped' : "the workers' Redis connections are down",
              details: { ...liveness },
            }
          : { status: 'up', details: { ...liveness } };
      },
    },
    unavailable: () => {
      if (redis.status !== 'ready' || !durable.liveness().redisReady)
        return redisUnavailableError(describeRedisTarget(target), redisAction);
      if (heartbeat.stalled())
        return redisUnavailableError(
          `${describeRedisTarget(target)}, connected but not answering for ${Math.round(heartbeat.unansweredForMs() / 1000)} s`,
          'Check that redis-server is running and not stopped or overloaded (a stopped process resumes with kill -CONT), then send the request again.',
        );
      return null;
    },
  };
  const auditRedis = createRedisClient(target, 'producer');
  auditRedis.on('error', (error) => logger.warn({ err: error.message }, 'redis connection problem'));
  if (auditRedis.status !== 'ready') await new Promise((resolve) => auditRedis.once('ready', resolve));
  const api = buildServer({
    context: ctx,
    tokens,
    logger,
    version: packageVersion(),
    consoleDir: join(packageRoot(), 'dist', 'console'),
    health: healthInputs,
    auditRedis,
  });
  const address = await api.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 7433 });
  // Lifecycle requests from other programs (BullMQ), carried out through the API's own routes.
  const requestClient = createRedisClient(target, 'worker');
  requestClient.on('error', (error) => logger.warn({ err: error.message }, 'redis connection problem'));
  const requests =
    options.engine?.runWorkers === false
      ? null
      : await startRequestWorker({
          app: api,
          ctx,
          connection: requestClient,
          logger: logger.child({ component: 'requests' }),
        });
  const info: EngineInfo = {
    url: address,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    storageFloor: space.floor,
  };
  await writeFile(join(dataDir, ENGINE_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  logger.info(
    { dataDir, redis: describeRedisTarget(target), url: address, reconciled: durable.startupReport },
    'engine started',
  );

  let stopping: Promise<void> | null = null;
  return {
    dataDir,
    redis: target,
    url: address,
    ctx,
    durable,
    api,
    sftp,
    stop(deadlineMs = 30_000) {
      stopping ??= (async () => {
        closing = true;
        heartbeat.stop();
        await supervisor?.stop();
        // Requests waiting for their runs are not waited for: the next engine takes them up and waits on (the
        // job holds the run id by then).
        await requests?.close(true);
        requestClient.disconnect();
        await api.close();
        await health?.stop();
        await policies?.stop();
        await durable.stop({ deadlineMs });
        // After the workers: no step takes a runner any more; every idle one is reaped before stop resolves.
        await runners?.close();
        await events.close();
        await webhooks?.close();
        webhookClient.disconnect();
        healthClient.disconnect();
        auditRedis.disconnect();
        await hosts.close();
        await rm(join(dataDir, ENGINE_INFO_FILE), { force: true });
        await redis.quit().catch(() => redis.disconnect());
      })();
      return stopping;
    },
  };
}
