import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { DvxError } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { redisOptions } from './redis-clients.js';
import type { RedisTarget } from './redis-target.js';

/** Options of {@link startEmbeddedRedis}. */
export interface EmbeddedRedisOptions {
  /** The engine's data directory; Redis keeps its files in `<dataDir>/redis`. */
  dataDir: string;
  /** The redis-server program. @defaultValue `'redis-server'` */
  redisServer?: string;
  /** How long to wait for a new server to answer. @defaultValue 15000 */
  startTimeoutMs?: number;
  logger?: Logger;
}

/** A Redis server owned by the engine's data directory. */
export interface EmbeddedRedis {
  target: RedisTarget;
  /** Directory holding redis.conf, the AOF, the socket and the log. */
  dir: string;
  pid: number;
  /** True when a live server from an earlier start was found and reused. */
  reused: boolean;
}

/** Unix socket paths longer than this do not fit in sockaddr_un on Linux. */
const MAX_SOCKET_PATH = 100;

/** A zombie (dead, not yet reaped: the daemon's parent may not reap) counts as dead. */
function isZombie(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readPid(dir: string): Promise<number | null> {
  try {
    const pid = Number.parseInt(await readFile(join(dir, 'redis.pid'), 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === 'object' ? resolvePort(address.port) : reject(new Error('no free port')),
      );
    });
  });
}

async function ping(target: RedisTarget): Promise<boolean> {
  const client = new Redis({
    ...redisOptions(target, 'producer'),
    lazyConnect: true,
    retryStrategy: () => null,
    connectTimeout: 1_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** Reads the target a previous start wrote into redis.conf. */
async function targetFromConfig(dir: string): Promise<RedisTarget | null> {
  let text: string;
  try {
    text = await readFile(join(dir, 'redis.conf'), 'utf8');
  } catch {
    return null;
  }
  const socket = /^unixsocket (.+)$/m.exec(text)?.[1];
  const port = Number(/^port (\d+)$/m.exec(text)?.[1] ?? 0);
  if (socket) return { kind: 'unix', path: socket, db: 0 };
  if (port > 0) return { kind: 'tcp', host: '127.0.0.1', port, db: 0, tls: false };
  return null;
}

function configText(dir: string, target: RedisTarget): string {
  const listen =
    target.kind === 'unix'
      ? ['port 0', `unixsocket ${target.path}`, 'unixsocketperm 700']
      : ['bind 127.0.0.1', `port ${target.port}`];
  return [
    "# Written by dvx: the engine's embedded Redis. Durable settings dvx relies on; edit with care.",
    'daemonize yes',
    `pidfile ${join(dir, 'redis.pid')}`,
    `logfile ${join(dir, 'redis.log')}`,
    `dir ${dir}`,
    ...listen,
    'protected-mode yes',
    'appendonly yes',
    'appendfsync everysec',
    'maxmemory-policy noeviction',
    'save ""',
    '',
  ].join('\n');
}

/**
 * Starts the engine's own redis-server under `<dataDir>/redis` (AOF on, fsync every second, no eviction,
 * listening on a unix socket, or on loopback when the socket path would be too long), or reuses the one a
 * previous start left running. The server is daemonised so that it outlives an engine crash.
 */
export async function startEmbeddedRedis(options: EmbeddedRedisOptions): Promise<EmbeddedRedis> {
  const logger = options.logger ?? silentLogger;
  const dir = resolve(options.dataDir, 'redis');
  await mkdir(dir, { recursive: true, mode: 0o700 });

  const existingPid = await readPid(dir);
  const existingTarget = await targetFromConfig(dir);
  if (existingPid !== null && isAlive(existingPid) && existingTarget && (await ping(existingTarget))) {
    logger.info({ pid: existingPid, dir }, 'reusing embedded redis');
    return { target: existingTarget, dir, pid: existingPid, reused: true };
  }
  await rm(join(dir, 'redis.pid'), { force: true });

  const socketPath = join(dir, 'redis.sock');
  const target: RedisTarget =
    existingTarget ??
    (socketPath.length <= MAX_SOCKET_PATH
      ? { kind: 'unix', path: socketPath, db: 0 }
      : { kind: 'tcp', host: '127.0.0.1', port: await freeLoopbackPort(), db: 0, tls: false });
  if (target.kind === 'unix') await rm(target.path, { force: true });
  await writeFile(join(dir, 'redis.conf'), configText(dir, target), { mode: 0o600 });

  const redisServer = options.redisServer ?? 'redis-server';
  await new Promise<void>((resolveStart, reject) => {
    const child = spawn(redisServer, [join(dir, 'redis.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new DvxError({
              code: 'DEPENDENCY_MISSING',
              message: `redis-server is not installed (looked for "${redisServer}").`,
              action: 'Install it with: apt-get install -y redis-server, or give an existing server with --redis URL.',
            })
          : error,
      ),
    );
    child.on('exit', (code) =>
      code === 0
        ? resolveStart()
        : reject(
            new DvxError({
              code: 'REDIS_UNAVAILABLE',
              message: `redis-server exited with status ${code}.`,
              output: stderr,
              action: `Read ${join(dir, 'redis.log')}.`,
            }),
          ),
    );
  });

  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  while (!(await ping(target))) {
    const started = await readPid(dir);
    const died = started !== null && !isAlive(started);
    if (died || Date.now() > deadline) {
      const log = existsSync(join(dir, 'redis.log')) ? await readFile(join(dir, 'redis.log'), 'utf8') : '';
      throw new DvxError({
        code: 'REDIS_UNAVAILABLE',
        message: died
          ? `The embedded redis-server (pid ${started}) exited while starting.`
          : 'The embedded redis-server did not start answering in time.',
        output: log.split('\n').slice(-20).join('\n'),
        action: `Read ${join(dir, 'redis.log')}.`,
      });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = (await readPid(dir)) ?? 0;
  logger.info({ pid, dir }, 'started embedded redis');
  return { target, dir, pid, reused: false };
}

/** Shuts down the embedded Redis of a data directory, if it runs; the AOF keeps everything. */
export async function stopEmbeddedRedis(dataDir: string, timeoutMs = 15_000): Promise<boolean> {
  const dir = resolve(dataDir, 'redis');
  const pid = await readPid(dir);
  if (pid === null || !isAlive(pid)) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline)
      throw new DvxError({
        code: 'REDIS_UNAVAILABLE',
        message: `Embedded redis (pid ${pid}) did not stop within ${timeoutMs} ms.`,
      });
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** Options of {@link superviseEmbeddedRedis}. */
export interface RedisSupervisorOptions extends EmbeddedRedisOptions {
  /** How often the server's process is looked at. @defaultValue 500 */
  checkIntervalMs?: number;
  /** Wait before the first restart attempt; doubled after each failed one. @defaultValue 250 */
  initialBackoffMs?: number;
  /** Longest wait between restart attempts. @defaultValue 10000 */
  maxBackoffMs?: number;
}

/** What the supervisor knows, for /health. */
export interface RedisSupervisorState {
  /** The server's process is alive. */
  running: boolean;
  pid: number;
  /** Restarts done since the engine started. */
  restarts: number;
  /** Failed restart attempts since the server was last up. */
  failedAttempts: number;
}

/** Keeps an embedded Redis running; see {@link superviseEmbeddedRedis}. */
export interface RedisSupervisor {
  state(): RedisSupervisorState;
  /** Stops watching (the server is left running, as at engine exit). */
  stop(): Promise<void>;
}

/**
 * Watches the embedded Redis the engine started and starts it again (same data directory, same socket or port,
 * its AOF reloaded) when its process dies, with a doubling backoff between failed attempts and one log line per
 * attempt. Clients reconnect by themselves, so runs in flight go on.
 */
export function superviseEmbeddedRedis(embedded: EmbeddedRedis, options: RedisSupervisorOptions): RedisSupervisor {
  const logger = options.logger ?? silentLogger;
  const checkIntervalMs = options.checkIntervalMs ?? 500;
  const initialBackoffMs = options.initialBackoffMs ?? 250;
  const maxBackoffMs = options.maxBackoffMs ?? 10_000;
  const state: RedisSupervisorState = { running: true, pid: embedded.pid, restarts: 0, failedAttempts: 0 };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let busy: Promise<void> = Promise.resolve();

  const schedule = (ms: number) => {
    if (!stopped)
      timer = setTimeout(() => {
        busy = tick();
      }, ms);
  };
  const tick = async () => {
    if (stopped) return;
    if (state.pid > 0 && isAlive(state.pid)) {
      schedule(checkIntervalMs);
      return;
    }
    if (state.running) {
      state.running = false;
      logger.warn({ pid: state.pid, dir: embedded.dir }, 'embedded redis died: restarting it');
    }
    const attempt = state.failedAttempts + 1;
    try {
      const started = await startEmbeddedRedis({ ...options, logger: silentLogger });
      if (stopped) return;
      state.pid = started.pid;
      state.running = true;
      state.restarts += 1;
      state.failedAttempts = 0;
      logger.warn({ pid: started.pid, attempt, restarts: state.restarts }, 'embedded redis restarted');
      schedule(checkIntervalMs);
    } catch (error) {
      state.failedAttempts = attempt;
      const backoffMs = Math.min(initialBackoffMs * 2 ** (attempt - 1), maxBackoffMs);
      logger.error(
        {
          attempt,
          backoffMs,
          err: error instanceof Error ? error.message : String(error),
          log: join(embedded.dir, 'redis.log'),
        },
        `embedded redis restart attempt ${attempt} failed: trying again`,
      );
      schedule(backoffMs);
    }
  };
  schedule(checkIntervalMs);
  return {
    state: () => ({ ...state, running: state.running && state.pid > 0 && isAlive(state.pid) }),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await busy;
    },
  };
}
