import type { Command } from 'commander';
import { createLogger } from '../../log/logger.js';
import { startEmbeddedRedis } from '../../model/embedded-redis.js';
import { describeRedisTarget, parseRedisUrl, type RedisTarget } from '../../model/redis-target.js';
import { DurableEngine } from '../../workers/durable-engine.js';
import { resolveDataDir } from '../data-dir.js';

interface EngineStartOptions {
  dataDir?: string;
  redis?: string;
  logLevel?: string;
  shutdownTimeout: string;
}

/** `dvx engine start`: the engine's main job, in the foreground until SIGTERM/SIGINT. */
export function registerEngineStart(program: Command): void {
  const engine = program.commands.find((command) => command.name() === 'engine') ?? program.command('engine').description('Run and manage the dvx engine');
  engine
    .command('start')
    .description('Start the engine: workers and reconciler on Redis (embedded unless --redis is given)')
    .option('--data-dir <dir>', 'engine data directory (default: $DVX_DATA_DIR or ./.dvx)')
    .option('--redis <url>', 'use this Redis instead of the embedded one (default: $DVX_REDIS_URL)')
    .option('--log-level <level>', 'pino log level', process.env.DVX_LOG_LEVEL ?? 'info')
    .option('--shutdown-timeout <ms>', 'how long running steps may take to finish on SIGTERM', '30000')
    .action(async (options: EngineStartOptions) => {
      const logger = createLogger({ level: options.logLevel ?? 'info', component: 'engine' });
      const dataDir = resolveDataDir(options.dataDir);
      const url = options.redis ?? process.env.DVX_REDIS_URL;
      let target: RedisTarget;
      if (url) {
        target = parseRedisUrl(url);
      } else {
        const embedded = await startEmbeddedRedis({ dataDir, logger });
        target = embedded.target;
        logger.info({ pid: embedded.pid, reused: embedded.reused }, 'embedded redis ready');
      }
      const durable = await DurableEngine.start({ redis: target, handlers: {}, logger });
      logger.info({ dataDir, redis: describeRedisTarget(target), reconciled: durable.startupReport }, 'engine started');
      process.stdout.write(`dvx engine running (data dir ${dataDir}, redis ${describeRedisTarget(target)}). Ctrl-C to stop.\n`);

      let signals = 0;
      await new Promise<void>((resolveStop) => {
        const onSignal = (signal: NodeJS.Signals) => {
          signals += 1;
          if (signals > 1) {
            logger.warn({ signal }, 'second signal: exiting at once');
            process.exit(130);
          }
          logger.info({ signal }, 'stopping: no new steps; running ones get to finish');
          void durable.stop({ deadlineMs: Number(options.shutdownTimeout) }).then(resolveStop);
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      });
    });
}
