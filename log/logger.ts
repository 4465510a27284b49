import { pino, type Logger, type LoggerOptions } from 'pino';
import { REDACTED, SECRET_KEYS } from './redact.js';
import { repeatLimitHook, type RepeatLimitOptions } from './repeat-limit.js';

export type { Logger } from 'pino';

/** Options for {@link createLogger}. */
export interface DvxLoggerOptions {
  /** Minimum level written. @defaultValue `process.env.DVX_LOG_LEVEL ?? 'info'` */
  level?: string;
  /** Component name, written as `component` on every line. */
  component?: string;
  /** Where lines go. @defaultValue standard error */
  destination?: NodeJS.WritableStream | string;
  /**
   * How often the same warning or error may repeat (see {@link repeatLimitHook}); `false` writes every line.
   * @defaultValue at most 3 lines per message and error in 10 s, then one line with the count
   */
  repeatLimit?: RepeatLimitOptions | false;
}

/** Paths pino censors: any secret-named property up to three levels deep. */
const REDACT_PATHS = SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`]);

/** A pino logger that never writes secrets. Structured fields: runId, step, objectId, operationId, host. */
export function createLogger(options: DvxLoggerOptions = {}): Logger {
  const pinoOptions: LoggerOptions = {
    level: options.level ?? process.env.DVX_LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    base: options.component ? { component: options.component } : {},
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(options.repeatLimit === false ? {} : { hooks: { logMethod: repeatLimitHook(options.repeatLimit) } }),
  };
  const destination = options.destination ?? 2;
  return pino(
    pinoOptions,
    typeof destination === 'string' || typeof destination === 'number'
      ? pino.destination({ dest: destination, sync: false, mkdir: true })
      : destination,
  );
}

/** A logger that writes nothing; the default for library code and tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
