import { CommandFailedError, HostError, outputTail } from '../errors/index.js';
import {
  bootstrapCommand,
  bootstrapInput,
  BOOTSTRAP_FAILED_EXIT,
  MISSING_INTERPRETER_MARKER,
  type ScriptInterpreter,
} from './bash-bootstrap.js';
import type { CommandHost, ExecResult, KeySigner } from './host-connection.js';

/** Options shared by `runBash` and `runExpect`. */
export interface RunScriptOptions {
  /** Environment variables of the script. Passed as data over stdin, never pasted into script text. @defaultValue none */
  variables?: Record<string, string>;
  /** Kill the script and fail with HOST_TIMEOUT after this long. @defaultValue no limit */
  timeoutMs?: number;
  /** Fail with HOST_COMMAND_FAILED when the script exits non-zero. @defaultValue false */
  check?: boolean;
  /** Aborting kills the script. */
  signal?: AbortSignal;
  /** Forward an SSH agent holding this key (see `ExecOptions.forwardAgent`). @defaultValue none */
  forwardAgent?: KeySigner;
}

/** Runs `script` with `interpreter` through the fixed bootstrap (see bash-bootstrap.ts). */
export async function runScript(
  connection: CommandHost,
  interpreter: ScriptInterpreter,
  script: string,
  options: RunScriptOptions,
): Promise<ExecResult> {
  const host = connection.address.name;
  const stdin = bootstrapInput(script, options.variables ?? {}, host);
  const result = await connection.exec(bootstrapCommand(interpreter), {
    stdin,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.forwardAgent ? { forwardAgent: options.forwardAgent } : {}),
  });
  if (result.exitCode === BOOTSTRAP_FAILED_EXIT && result.stderr.includes(MISSING_INTERPRETER_MARKER)) {
    const program = interpreter === 'expect' ? 'expect' : 'bash';
    throw new HostError({
      code: 'HOST_CAPABILITY_MISSING',
      host,
      message: `${program} is not installed on ${host} (or not on the login user's PATH).`,
      action: `Install ${program} on ${host} (for example \`apt-get install ${program}\` or \`dnf install ${program}\`) and try again.`,
      output: outputTail(result.stderr),
      details: { program },
    });
  }
  if (options.check && result.exitCode !== 0) throw new CommandFailedError({ host, ...result });
  return result;
}
