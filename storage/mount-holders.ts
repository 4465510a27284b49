import { StorageError } from '../errors/index.js';
import type { HostCommandResult } from './mount-transport.js';

/** One process that keeps a mount busy. */
export interface MountHolder {
  pid: number;
  /** Its command line (truncated to 200 characters). */
  command: string;
}

/**
 * A bash function for detach scripts: `holders` prints a `holder PID COMMAND` line for each process using `$target`
 * (cwd, root, executable, open files, mapped files under it), from a scan of /proc. fuser -m is no use here: for a
 * bind mount it names every user of the whole underlying filesystem.
 */
export const HOLDERS_FUNCTION = String.raw`
holders() {
  pattern=$(printf '%s' "$target" | sed 's/[][*?\\]/\\&/g')
  {
    find /proc/[0-9]*/cwd /proc/[0-9]*/root /proc/[0-9]*/exe /proc/[0-9]*/fd -maxdepth 1 \( -lname "$pattern" -o -lname "$pattern/*" \) -printf '%p\n' 2>/dev/null
    grep -lF -- " $target/" /proc/[0-9]*/maps 2>/dev/null
  } | cut -d/ -f3 | sort -un | while read -r pid; do
    [ "$pid" = "$$" ] && continue
    printf 'holder %s %s\n' "$pid" "$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | head -c 200)"
  done
}
`;

/** Parses the `holder PID COMMAND` lines of a detach script. */
export function parseHolders(stdout: string): MountHolder[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('holder '))
    .map((line) => {
      const [, pid, ...command] = line.split(' ');
      return { pid: Number(pid), command: command.join(' ').trim() };
    });
}

/** A detach script that failed for another reason than a busy mount. */
export function unmountFailedError(host: string, mountPath: string, result: HostCommandResult): StorageError {
  return new StorageError({
    code: 'MOUNT_FAILED',
    message: `Unmounting ${mountPath} on ${host} failed: ${result.stderr.trim() || `exit code ${result.exitCode}`}`,
    output: result.stderr,
    details: { host, mountPath },
  });
}

/** A mount still busy after every try, naming the processes that hold it. */
export function mountBusyError(host: string, mountPath: string, holders: MountHolder[], tries: number): StorageError {
  const named = holders.length
    ? holders.map((holder) => `pid ${holder.pid} (${holder.command || '?'})`).join(', ')
    : 'a process that could not be identified';
  return new StorageError({
    code: 'MOUNT_BUSY',
    message: `${mountPath} on ${host} is busy after ${tries} tries: used by ${named}.`,
    action: 'Stop those processes (or make them leave the directory), then retry.',
    details: { host, mountPath, holders },
  });
}
