import { HostError } from './host-error.js';

/** Characters of stdout and of stderr kept in a failed command's error output (the tail of each). */
export const OUTPUT_TAIL_CHARS = 16 * 1024;

/** The last {@link OUTPUT_TAIL_CHARS} characters of `text`, marked with `[...]` when cut. */
export function outputTail(text: string): string {
  return text.length > OUTPUT_TAIL_CHARS ? `[...]${text.slice(-OUTPUT_TAIL_CHARS)}` : text;
}

/** What a command that exited non-zero left behind. */
export interface CommandFailure {
  /** The host it ran on. */
  host: string;
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * HOST_COMMAND_FAILED for a script or command that exited non-zero when its caller asked for a check. Keeps the exit
 * code and the whole output as fields (a plugin that asked to check gets them); the error's `output` holds the tails.
 */
export class CommandFailedError extends HostError {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;

  constructor(failure: CommandFailure) {
    const { host, exitCode, stdout, stderr } = failure;
    const lastLine = stderr.trim().split('\n').at(-1);
    super({
      code: 'HOST_COMMAND_FAILED',
      host,
      message: `The script failed on ${host} with exit code ${exitCode}${lastLine ? `: ${lastLine}` : ''}.`,
      action: 'Read the output below; fix the script or the host.',
      output: `stdout:\n${outputTail(stdout)}\nstderr:\n${outputTail(stderr)}`,
      details: { exitCode },
    });
    this.exitCode = exitCode;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}
