// A secret handed to a host tool through a private temporary file, for tools that read a password or key from a file
// (`--defaults-extra-file`, `PGPASSFILE`, `--password-file`, `-i keyfile`) rather than from their command line, which
// every user of the host can read with ps.
import { logger, runBash } from './platform-libs.js';
import type { RemoteConnection } from './platform-objects.js';

/** Options of {@link withSecretFile}. */
export interface WithSecretFileOptions {
  /**
   * Directory on the host the file is created in; it must exist and be writable by the connection's user.
   * @defaultValue the user's `$TMPDIR`, else `/tmp`
   */
  directory?: string;
}

// The secret reaches bash as an environment variable (sent over the session's stdin, never on a command line), and
// printf is a builtin: no process is started with it as an argument. umask 077 makes the file 0600 from its creation.
const CREATE = [
  'umask 077',
  'dir=${secret_file_dir:-${TMPDIR:-/tmp}}',
  'file=$(mktemp "$dir/dvx-secret.XXXXXXXXXX") || exit 1',
  'printf %s "$secret_file_content" > "$file" || { rm -f -- "$file"; exit 1; }',
  'printf "%s\\n" "$file"',
].join('\n');

const REMOVE = 'rm -f -- "$secret_file"';

async function remove(remoteConnection: RemoteConnection, path: string): Promise<void> {
  await runBash(remoteConnection, REMOVE, { variables: { secret_file: path }, checkExitCode: true });
}

/**
 * Writes `secret` to a new file on the connection's host, readable and writable by the connection's user only (mode
 * 0600, created by mktemp), calls `use` with its path, and removes the file when `use` is done, whether it returned or
 * threw. The secret travels as data over the SSH session's stdin, never on a command line or in a log line. Returns
 * what `use` returns; rethrows what it throws (a failure to remove the file then is logged, not thrown over it).
 *
 * The file exists while `use` runs, so hand its path to a tool run from `use` (with runBash), not to a daemon that
 * reads it later. If the engine dies while `use` runs, the file stays behind until the host's temp cleaner removes it:
 * point `directory` at a place that is cleaned (or at a tmpfs) for secrets that must not outlive the run.
 *
 * @example
 * await withSecretFile(connection, `[client]\npassword=${password}\n`, (path) =>
 *   runBash(connection, 'mysql --defaults-extra-file="$CNF" -e "select 1"', { variables: { CNF: path }, checkExitCode: true }),
 * );
 */
export async function withSecretFile<T>(
  remoteConnection: RemoteConnection,
  secret: string,
  use: (path: string) => T | Promise<T>,
  options: WithSecretFileOptions = {},
): Promise<T> {
  if (typeof secret !== 'string') throw new TypeError('dvx/sdk: withSecretFile secret must be a string.');
  if (typeof use !== 'function') throw new TypeError('dvx/sdk: withSecretFile needs a function to call with the path.');
  if (options.directory !== undefined && !options.directory.startsWith('/'))
    throw new TypeError(`dvx/sdk: withSecretFile directory must be an absolute path, not "${options.directory}".`);
  const created = await runBash(remoteConnection, CREATE, {
    variables: {
      secret_file_content: secret,
      ...(options.directory !== undefined ? { secret_file_dir: options.directory } : {}),
    },
    checkExitCode: true,
  });
  const path = created.stdout.replace(/\n$/, '');
  let result: T;
  try {
    result = await use(path);
  } catch (error) {
    try {
      await remove(remoteConnection, path);
    } catch (removal) {
      logger.warn('withSecretFile could not remove the secret file after its callback failed', {
        path,
        error: removal instanceof Error ? removal.message : String(removal),
      });
    }
    throw error;
  }
  await remove(remoteConnection, path);
  return result;
}
