import { execFile } from 'node:child_process';
import { toDvxError, type DvxError } from '../errors/index.js';

/** Output of a finished local command. */
export interface CommandOutput {
  stdout: string;
  stderr: string;
}

/** Options of {@link runCommand}. */
export interface RunCommandOptions {
  /** What the command does, for the error message ("clone snapshot s1"). */
  doing: string;
  /** Kill the command after this long. @defaultValue 120 000 ms */
  timeoutMs?: number;
}

/**
 * Runs a local program with arguments, never through a shell, so ids and paths stay data. A failure goes through
 * `toDvxError` (domain storage): "busy" becomes STORAGE_BUSY (retryable), "no space" STORAGE_NO_SPACE, a missing
 * program DEPENDENCY_MISSING, anything else STORAGE_FAILED with the command's output.
 */
export function runCommand(file: string, args: string[], options: RunCommandOptions): Promise<CommandOutput> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: options.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolve({ stdout, stderr });
        reject(toDvxError(Object.assign(error, { stderr }), { doing: options.doing, domain: 'storage' }));
      },
    );
  });
}

/** Maps whatever a storage operation threw (a Node fs error, say) onto a typed error. */
export function storageFailure(error: unknown, doing: string): DvxError {
  return toDvxError(error, { doing, domain: 'storage' });
}

/** Runs a storage operation, mapping whatever it throws onto a typed error (see {@link storageFailure}). */
export async function storageWork<T>(doing: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw storageFailure(error, doing);
  }
}
