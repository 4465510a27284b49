import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';
import { makeTempDir } from './temp-dir.js';
import { waitFor } from './wait-for.js';

/** Options of {@link startRedisServer}. */
export interface TestRedisOptions {
  /** Redis settings, as `--name value` arguments. Defaults to the durable settings dvx requires. */
  config?: Record<string, string>;
}

/** A real redis-server on a loopback port, with its own data directory. */
export interface TestRedis {
  url: string;
  port: number;
  dir: string;
  pid(): number | undefined;
  /** Stops it cleanly (the AOF is flushed). */
  stop(): Promise<void>;
  /** SIGKILL: what a crash or power loss looks like. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  client(): Redis;
  /** Stops it and removes its directory. */
  remove(): Promise<void>;
}

const DURABLE = { appendonly: 'yes', appendfsync: 'everysec', 'maxmemory-policy': 'noeviction', save: '' };

export async function startRedisServer(options: TestRedisOptions = {}): Promise<TestRedis> {
  const temp = await makeTempDir('redis');
  const port = await freePort();
  const config = { ...DURABLE, ...options.config };
  let child: ChildProcess | undefined;
  const clients: Redis[] = [];

  const exited = (proc: ChildProcess) =>
    new Promise<void>((resolve) =>
      proc.exitCode !== null || proc.signalCode !== null ? resolve() : proc.once('exit', () => resolve()),
    );

  async function start(): Promise<void> {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      temp.path,
      ...Object.entries(config).flatMap(([k, v]) => [`--${k}`, v]),
    ];
    const proc = spawn('redis-server', args, { stdio: 'ignore' });
    child = proc;
    await waitFor(
      'redis-server to answer',
      async () => {
        if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}`);
        const probe = new Redis({
          port,
          host: '127.0.0.1',
          lazyConnect: true,
          retryStrategy: () => null,
          maxRetriesPerRequest: 0,
        });
        probe.on('error', () => undefined);
        try {
          await probe.connect();
          // Answering PING is not enough after a restart: it must have loaded the AOF.
          const info = await probe.info('persistence');
          return /loading:0/.test(info);
        } catch {
          return false;
        } finally {
          probe.disconnect();
        }
      },
      15_000,
    );
  }

  async function stop(signal: NodeJS.Signals): Promise<void> {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    proc.kill(signal);
    await exited(proc);
  }

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir: temp.path,
    pid: () => child?.pid,
    stop: () => stop('SIGTERM'),
    kill: () => stop('SIGKILL'),
    start,
    client() {
      const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: null });
      client.on('error', () => undefined);
      clients.push(client);
      return client;
    },
    async remove() {
      for (const client of clients) client.disconnect();
      await stop('SIGKILL');
      await temp.remove();
    },
  };
}
