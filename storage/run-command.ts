import { execFile } from 'node:child_process';
import { StorageError } from '../errors/index.js';

/** Output of a finished local command. */
export interface CommandOutput {
  stdout: string;
  stderr: string;
}

/**
 * Runs a local program with arguments (never through a shell) and maps a failure onto a StorageError: "busy"
 * becomes STORAGE_BUSY (retryable), "no space" STORAGE_NO_SPACE, anything else STORAGE_FAILED with the output.
 */
export function runCommand(file: string, args: string[], options: { what: string; timeoutMs?: number } = { what: file }): Promise<CommandOutput> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: options.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve({ stdout, stderr });
      const text = `${stderr}\n${error.message}`;
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      const code = missing ? 'STORAGE_UNSUPPORTED' : /busy/i.test(text) ? 'STORAGE_BUSY' : /no space/i.test(text) ? 'STORAGE_NO_SPACE' : 'STORAGE_FAILED';
      reject(
        new StorageError({
          code,
          message: missing ? `${options.what}: ${file} is not installed.` : `${options.what} failed: ${stderr.trim() || error.message}`,
          ...(missing ? { action: `Install it (apt-get install ${file === 'btrfs' || file === 'mkfs.btrfs' ? 'btrfs-progs' : file}).` } : {}),
          details: { command: [file, ...args].join(' '), stderr: stderr.trim() },
          cause: error,
        }),
      );
    });
  });
}
