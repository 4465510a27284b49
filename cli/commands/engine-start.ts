import type { Command, Option } from 'commander';
import { commandGroup } from '../command-group.js';
import { createLogger } from '../../log/logger.js';
import { routeProcessOutputToLogger } from '../../log/process-output.js';
import { ValidationError } from '../../errors/index.js';
import { describeRedisTarget, parseRedisUrl } from '../../model/redis-target.js';
import { FREE_SPACE_FLOOR_ENV, parseFreeSpaceFloor } from '../../storage/index.js';
import { resolveDataDir } from '../data-dir.js';
import { envOption } from '../env-option.js';
import { startEngineRuntime } from '../engine-runtime.js';

interface EngineStartOptions {
  dataDir?: string;
  redis?: string;
  listen: string;
  logLevel: string;
  shutdownTimeout: string;
  sftpListen?: string;
  sftpPort?: string;
  storageFloor?: string;
}

/** Where the API listens unless `--listen` or `DVX_LISTEN` says otherwise. */
export const DEFAULT_LISTEN = '127.0.0.1:7433';

/** Parses `HOST:PORT` or `PORT`. */
export function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:(.+):)?(\d+)$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || port > 65_535) {
    throw new ValidationError(
      `--listen "${value}" is not HOST:PORT or PORT.`,
      [{ pointer: '/listen', message: 'not HOST:PORT' }],
      { action: 'Give for example 127.0.0.1:7433.' },
    );
  }
  return { host: match[1] ?? '127.0.0.1', port };
}

/** Where the API listens; `DVX_LISTEN` sets the default. `dvx quickstart` takes the same option. */
export function listenOption(): Option {
  return envOption({
    flags: '--listen <host:port>',
    description: 'where the API listens',
    variable: 'DVX_LISTEN',
    builtIn: DEFAULT_LISTEN,
  });
}

function logLevelOption(): Option {
  return envOption({
    flags: '--log-level <level>',
    description: 'pino log level (trace, debug, info, warn, error, fatal)',
    variable: 'DVX_LOG_LEVEL',
    builtIn: 'info',
  });
}

/** A Redis URL as help may print it: without its password. */
function redactedRedisUrl(url: string): string {
  try {
    return describeRedisTarget(parseRedisUrl(url));
  } catch {
    return 'a value that is not a Redis URL';
  }
}

/** `dvx engine start`: the engine's main job, in the foreground until SIGTERM/SIGINT. */
export function registerEngineStart(program: Command): void {
  const engine = commandGroup(program, 'engine');
  engine
    .command('start')
    .description('Start the engine: API, workers and reconciler, on Redis (embedded unless --redis is given)')
    .addOption(
      envOption({
        flags: '--redis <url>',
        description: 'use this Redis instead of the embedded one',
        variable: 'DVX_REDIS_URL',
        builtInText: 'the embedded Redis of the data dir',
        show: redactedRedisUrl,
      }),
    )
    .addOption(listenOption())
    .addOption(logLevelOption())
    .option('--shutdown-timeout <ms>', 'how long running steps may take to finish on SIGTERM', '30000')
    .addOption(
      envOption({
        flags: '--sftp-listen <addresses>',
        description: 'comma-separated addresses where hosts mounted with sshfs reach the SFTP server',
        variable: 'DVX_SFTP_LISTEN',
        builtIn: '0.0.0.0',
      }),
    )
    .addOption(
      envOption({
        flags: '--sftp-port <port>',
        description: 'port of that SFTP server',
        variable: 'DVX_SFTP_PORT',
        builtIn: '7422',
      }),
    )
    .option(
      '--storage-floor <floor>',
      `free space the pool keeps, e.g. 5% or 2G (0 turns it off): below it, provisions, snapshots and syncs are refused (default: $${FREE_SPACE_FLOOR_ENV} or 5%)`,
    )
    .action(async function (this: Command) {
      const options = this.optsWithGlobals<EngineStartOptions>();
      const logger = createLogger({ level: options.logLevel, component: 'engine' });
      // The engine writes JSON lines only, whatever its libraries print, and keeps running on a stray rejection.
      routeProcessOutputToLogger(logger);
      const listen = parseListen(options.listen);
      const floor = options.storageFloor ?? process.env[FREE_SPACE_FLOOR_ENV];
      const storageFloor =
        floor === undefined
          ? undefined
          : parseFreeSpaceFloor(floor, options.storageFloor === undefined ? FREE_SPACE_FLOOR_ENV : '--storage-floor');
      const runtime = await startEngineRuntime({
        dataDir: resolveDataDir(options.dataDir),
        ...(options.redis ? { redisUrl: options.redis } : {}),
        host: listen.host,
        port: listen.port,
        ...(storageFloor ? { storageFloor } : {}),
        logger,
        sftp: {
          listenAddresses: (options.sftpListen ?? '0.0.0.0').split(',').filter(Boolean),
          port: Number(options.sftpPort ?? 7422),
        },
      });
      process.stdout.write(
        `dvx engine running: API ${runtime.url}, data dir ${runtime.dataDir}, redis ${describeRedisTarget(runtime.redis)}. Ctrl-C to stop.\n`,
      );

      let signals = 0;
      await new Promise<void>((resolveStop) => {
        const onSignal = (signal: NodeJS.Signals) => {
          signals += 1;
          if (signals > 1) {
            logger.warn({ signal }, 'second signal: exiting at once');
            process.exit(130);
          }
          logger.info({ signal }, 'stopping: no new steps; running ones get to finish');
          void runtime.stop(Number(options.shutdownTimeout)).then(resolveStop);
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      });
    });
}
