import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { EngineClient } from '../../cli/engine-client.js';
import { startEngineRuntime, type EngineRuntime, type EngineRuntimeOptions } from '../../cli/engine-runtime.js';
import { ADMIN_TOKEN_FILE } from '../../cli/engine-client.js';
import type { EventLogOptions } from '../../model/event-log.js';
import { silentLogger, type Logger } from '../../log/logger.js';
import type { HealthMonitorOptions } from '../../workers/health-monitor.js';
import { buildPlugin } from '../../operations/toolchain/index.js';
import { BtrfsBackend } from '../../storage/index.js';
import { localMountPoints } from '../../storage/local-mounts.js';

const execFileAsync = promisify(execFile);
import { createTestBtrfsPool, type TestBtrfsPool } from '../harness/btrfs-pool.js';
import { startRedisServer, type TestRedis } from '../harness/redis-server.js';
import { startSshHosts, type SshHostsOptions, type TestSshHosts } from '../harness/ssh-hosts.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { stopOnExit } from '../harness/sftp-server.js';
import type { TourHost } from '../../cli/quickstart/tour.js';
import { must } from '../harness/must.js';

/** A whole engine in this process: real Redis, a btrfs pool on a loop file, real sshd hosts, the REST API. */
export interface EngineFixture {
  runtime: EngineRuntime;
  client: EngineClient;
  /** The engine's admin token (what `client` sends). */
  token: string;
  ssh: TestSshHosts;
  storage: BtrfsBackend;
  /** The loop-file pool `storage` lives on (its data dir is what `dvx storage status --data-dir` reads). */
  pool: TestBtrfsPool;
  redis: TestRedis;
  dir: string;
  /** A test host as the tour adds it. */
  tourHost(index: number): TourHost;
  /** Builds a plugin of plugins/ (or a fixture directory) and returns its artifact path. */
  build(dir: string): Promise<string>;
  stop(): Promise<void>;
}

/** The tour's view of the fixture's sshd host `index`. */
export function tourHostOf(ssh: TestSshHosts): (index: number) => TourHost {
  return (index) => {
    const host = must(ssh.hosts[index], 'ssh.hosts[index]');
    return {
      name: `e2e-${host.name}`,
      host: host.address.host,
      port: host.address.port,
      user: host.address.user,
      privateKey: must(host.credentials.privateKey, 'host.credentials.privateKey'),
    };
  };
}

/** Builds a plugin as `dvx plugin build` would, into `outDir`, without writing generated types into its directory. */
export function pluginBuilder(outDir: string): (dir: string) => Promise<string> {
  return async (dir) => {
    const built = await buildPlugin({ dir, out: join(outDir, `${dir.replace(/\W+/g, '-')}.json`), writeTypes: false });
    return built.artifactPath;
  };
}

export async function startEngineFixture(
  options: {
    hosts?: number;
    retryDeadlineMs?: number;
    poolSizeBytes?: number;
    health?: HealthMonitorOptions | false;
    logger?: Logger;
    /** The engine's SFTP server (sshfs mounts). @defaultValue the runtime's: port 7422 on every address */
    sftp?: EngineRuntimeOptions['sftp'];
    events?: EventLogOptions;
    webhooks?: EngineRuntimeOptions['webhooks'];
    /** Options of the sshd hosts. @defaultValue the harness's */
    ssh?: SshHostsOptions;
  } = {},
): Promise<EngineFixture> {
  const temp = await makeTempDir('e2e');
  const redis = await startRedisServer();
  const pool = await createTestBtrfsPool(options.poolSizeBytes ? { sizeBytes: options.poolSizeBytes } : {});
  const ssh = await startSshHosts(options.hosts ?? 3, options.ssh);
  const storage = new BtrfsBackend({ root: pool.root });
  const runtime = await startEngineRuntime({
    dataDir: join(temp.path, 'data'),
    redisUrl: redis.url,
    port: 0,
    logger: options.logger ?? silentLogger,
    storage,
    health: options.health ?? false,
    ...(options.sftp ? { sftp: options.sftp } : {}),
    ...(options.events ? { events: options.events } : {}),
    ...(options.webhooks ? { webhooks: options.webhooks } : {}),
    engine: {
      retry: { initialDelayMs: 200, maxDelayMs: 1_000, deadlineMs: options.retryDeadlineMs ?? 120_000 },
      worker: { lockDurationMs: 5_000, stalledIntervalMs: 2_000 },
    },
  });
  stopOnExit(runtime.sftp);
  const token = (await readFile(join(runtime.dataDir, ADMIN_TOKEN_FILE), 'utf8')).trim();
  const client = new EngineClient(runtime.url, token);
  return {
    runtime,
    client,
    token,
    ssh,
    storage,
    pool,
    redis,
    dir: temp.path,
    tourHost: tourHostOf(ssh),
    build: pluginBuilder(temp.path),
    async stop() {
      await runtime.stop(10_000);
      // The SFTP server outlives an engine on purpose; the fixture's goes with it.
      await runtime.sftp.stop({ sessions: true });
      // Whatever a failed test left mounted under the fixture (staging and VDB mounts) goes before the pool.
      for (const mount of (await localMountPoints()).filter((path) => path.startsWith(`${temp.path}/`)).reverse()) {
        await execFileAsync('umount', ['-l', mount]).catch(() => undefined);
      }
      await ssh.stopAll();
      await pool.remove();
      await redis.remove();
      await temp.remove();
    },
  };
}
