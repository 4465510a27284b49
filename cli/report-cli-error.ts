// Not the errors/ barrel: every command's start (and `dvx --help`) goes through here, and the barrel loads ~40 modules.
import { isDvxError } from '../errors/dvx-error.js';

/** Prints an error the way the CLI shows every failure: what went wrong, then what to do. Returns the exit code. */
export function reportCliError(error: unknown, stream: NodeJS.WritableStream = process.stderr): number {
  if (isDvxError(error)) {
    stream.write(`error: ${error.message}\n`);
    if (error.action) stream.write(`  what to do: ${error.action}\n`);
    if (error.output) stream.write(`  output:\n${error.output.replace(/^/gm, '    ')}\n`);
    stream.write(`  code: ${error.code}\n`);
    return error.code === 'VALIDATION_FAILED' ? 2 : 1;
  }
  stream.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
}
