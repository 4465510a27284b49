import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { ADMIN_TOKEN_FILE, EngineClient } from '../../cli/engine-client.js';
import { startEngineRuntime } from '../../cli/engine-runtime.js';
import { silentLogger, type Logger } from '../../log/logger.js';
import { startEmbeddedRedis, stopEmbeddedRedis } from '../../model/embedded-redis.js';
import { redisOptions } from '../../model/redis-clients.js';
import { BtrfsBackend } from '../../storage/index.js';
import { localMountPoints } from '../../storage/local-mounts.js';
import { createTestBtrfsPool } from '../harness/btrfs-pool.js';
import { startSshHosts } from '../harness/ssh-hosts.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { pluginBuilder, tourHostOf } from './engine-fixture.js';
import type { EngineFixture } from './engine-fixture.js';

const execFileAsync = promisify(execFile);

/** The pid of the embedded redis-server of a data dir, from its pid file. */
export async function embeddedRedisPid(dataDir: string): Promise<number> {
  return Number.parseInt(await readFile(join(dataDir, 'redis', 'redis.pid'), 'utf8'), 10);
}

/**
 * As {@link startEngineFixture}, but the engine runs on its own embedded Redis (no redisUrl), as `dvx engine start`
 * does without --redis. `redis` is a handle on that embedded server: `kill()` is a `kill -9` of its pid.
 */
export async function startEmbeddedEngineFixture(
  options: { hosts?: number; logger?: Logger } = {},
): Promise<EngineFixture> {
  const temp = await makeTempDir('e2e-embedded');
  const dataDir = join(temp.path, 'data');
  const pool = await createTestBtrfsPool();
  const ssh = await startSshHosts(options.hosts ?? 3);
  const storage = new BtrfsBackend({ root: pool.root });
  const runtime = await startEngineRuntime({
    dataDir,
    port: 0,
    logger: options.logger ?? silentLogger,
    storage,
    health: false,
    engine: {
      retry: { initialDelayMs: 200, maxDelayMs: 1_000, deadlineMs: 120_000 },
      worker: { lockDurationMs: 5_000, stalledIntervalMs: 2_000 },
    },
  });
  const token = (await readFile(join(dataDir, ADMIN_TOKEN_FILE), 'utf8')).trim();
  const clients: Redis[] = [];
  return {
    runtime,
    client: new EngineClient(runtime.url, token),
    token,
    ssh,
    storage,
    pool,
    redis: {
      url: runtime.redis.kind === 'unix' ? `unix://${runtime.redis.path}` : '',
      port: runtime.redis.kind === 'tcp' ? runtime.redis.port : 0,
      dir: join(dataDir, 'redis'),
      pid: () => undefined,
      stop: async () => {
        await stopEmbeddedRedis(dataDir);
      },
      kill: async () => {
        process.kill(await embeddedRedisPid(dataDir), 'SIGKILL');
      },
      start: async () => {
        await startEmbeddedRedis({ dataDir });
      },
      client() {
        const client = new Redis(redisOptions(runtime.redis, 'worker'));
        client.on('error', () => undefined);
        clients.push(client);
        return client;
      },
      remove: async () => {
        for (const client of clients) client.disconnect();
        await stopEmbeddedRedis(dataDir);
      },
    },
    dir: temp.path,
    tourHost: tourHostOf(ssh),
    build: pluginBuilder(temp.path),
    async stop() {
      // The engine first (it stops supervising), then its Redis, which outlives an engine by design. Redis is
      // started first if a test left it dead, so that the engine's clients can close.
      await startEmbeddedRedis({ dataDir }).catch(() => undefined);
      await runtime.stop(10_000);
      for (const client of clients) client.disconnect();
      await stopEmbeddedRedis(dataDir);
      for (const mount of (await localMountPoints()).filter((path) => path.startsWith(`${temp.path}/`)).reverse()) {
        await execFileAsync('umount', ['-l', mount]).catch(() => undefined);
      }
      await ssh.stopAll();
      await pool.remove();
      await temp.remove();
    },
  };
}
