import type { Command } from 'commander';
import { createLogger } from '../../log/logger.js';
import { routeProcessOutputToLogger } from '../../log/process-output.js';
import { ValidationError } from '../../errors/index.js';
import { describeRedisTarget } from '../../model/redis-target.js';
import { FREE_SPACE_FLOOR_ENV, parseFreeSpaceFloor } from '../../storage/index.js';
import { resolveDataDir } from '../data-dir.js';
import { startEngineRuntime } from '../engine-runtime.js';

interface EngineStartOptions {
  dataDir?: string;
  redis?: string;
  listen: string;
  logLevel?: string;
  shutdownTimeout: string;
  storageFloor?: string;
}

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

/** `dvx engine start`: the engine's main job, in the foreground until SIGTERM/SIGINT. */
export function registerEngineStart(program: Command): void {
  const engine =
    program.commands.find((command) => command.name() === 'engine') ??
    program.command('engine').description('Run and manage the dvx engine');
  engine
    .command('start')
    .description('Start the engine: API, workers and reconciler, on Redis (embedded unless --redis is given)')
    .option('--redis <url>', 'use this Redis instead of the embedded one (default: $DVX_REDIS_URL)')
    .option('--listen <host:port>', 'where the API listens', process.env.DVX_LISTEN ?? '127.0.0.1:7433')
    .option('--log-level <level>', 'pino log level', process.env.DVX_LOG_LEVEL ?? 'info')
    .option('--shutdown-timeout <ms>', 'how long running steps may take to finish on SIGTERM', '30000')
    .option(
      '--storage-floor <floor>',
      `free space the pool keeps, e.g. 5% or 2G (0 turns it off): below it, provisions, snapshots and syncs are refused (default: $${FREE_SPACE_FLOOR_ENV} or 5%)`,
    )
    .action(async function (this: Command) {
      const options = this.optsWithGlobals<EngineStartOptions>();
      const logger = createLogger({ level: options.logLevel ?? 'info', component: 'engine' });
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
        ...((options.redis ?? process.env.DVX_REDIS_URL)
          ? { redisUrl: options.redis ?? process.env.DVX_REDIS_URL }
          : {}),
        host: listen.host,
        port: listen.port,
        ...(storageFloor ? { storageFloor } : {}),
        logger,
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
