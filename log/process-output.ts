import { format } from 'node:util';
import type { Logger } from 'pino';

/**
 * Makes a long-running process (the engine) write only JSON log lines: what libraries print with `console.*`
 * (ioredis' "Unhandled error event", BullMQ's errors of an emitter nobody listens to) and unhandled promise
 * rejections go through the logger, so its repeat limit applies to them too. Returns a function that undoes it.
 */
export function routeProcessOutputToLogger(logger: Logger): () => void {
  const log = logger.child({ component: 'console' });
  const saved = {
    log: console.log,
    info: console.info,
    warn: console.warn,
    error: console.error,
    debug: console.debug,
  };
  const line = (args: unknown[]) => {
    const first = args[0];
    if (first instanceof Error)
      return { fields: { err: first.message }, msg: format(...args.slice(1)) || first.message };
    const text = format(...args);
    return { fields: {}, msg: text.split('\n', 1)[0] ?? '' };
  };
  console.log = console.info = (...args: unknown[]) => {
    const { fields, msg } = line(args);
    log.info(fields, msg);
  };
  console.debug = (...args: unknown[]) => {
    const { fields, msg } = line(args);
    log.debug(fields, msg);
  };
  console.warn = (...args: unknown[]) => {
    const { fields, msg } = line(args);
    log.warn(fields, msg);
  };
  console.error = (...args: unknown[]) => {
    const { fields, msg } = line(args);
    log.error(fields, msg);
  };
  const onRejection = (reason: unknown) =>
    logger.error(
      { err: reason instanceof Error ? reason.message : String(reason) },
      'unhandled promise rejection (the engine keeps running)',
    );
  process.on('unhandledRejection', onRejection);
  return () => {
    Object.assign(console, saved);
    process.off('unhandledRejection', onRejection);
  };
}
