import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { HostError, RSYNC_OK_EXIT_CODES, rsyncFailureError, startDeadline, toDvxError } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { abortReason } from './as-error.js';
import type { ExecResult, HostConnection } from './host-connection.js';
import { hostKeyAlgorithmsFor } from './host-key.js';
import { startRshBridge, type RshBridge } from './rsh-bridge-server.js';
import { parseRsyncStats, type RunSyncStats } from './rsync-stats.js';
import { runBash } from './run-bash.js';

export type { RunSyncStats } from './rsync-stats.js';

/** Where a copy comes from: a directory on a host. */
export interface RunSyncSource {
  connection: HostConnection;
  /** Absolute directory path on the host. */
  path: string;
}

/** Where a copy goes: an engine path (no connection) or a directory on another host. */
export type RunSyncDestination =
  { path: string; connection?: undefined } | { connection: HostConnection; path: string };

/** Options of {@link runSync}. */
export interface RunSyncOptions {
  from: RunSyncSource;
  /** Created if missing. An engine path is written by the engine; a host path by rsync on that host. */
  to: RunSyncDestination;
  /**
   * Paths relative to the source root that are not copied (rsync patterns anchored at the root, so `*` and `?` work
   * within a path). @defaultValue none
   */
  excludePaths?: string[];
  /**
   * Symlinks (paths relative to the source root) copied as what they point to, file or directory. Every other symlink
   * is copied as a link. @defaultValue none
   */
  symLinksToFollow?: string[];
  /**
   * The destination mirrors the source: what the source no longer has is deleted (excluded paths are left alone).
   * @defaultValue true
   */
  deleteExtraneous?: boolean;
  /** Stop the copy and fail with HOST_TIMEOUT after this long. @defaultValue no limit */
  timeoutMs?: number;
  /** Aborting stops the copy. */
  signal?: AbortSignal;
  /** @defaultValue silentLogger */
  logger?: Logger;
}

/** One rsync run: the root of the copy, or one followed symlink under it. */
interface SyncPass {
  /** Path relative to both roots; '' for the roots themselves. */
  rel: string;
  mode: 'dir' | 'file';
  args: string[];
}

function badInput(host: string, message: string, action: string, pointer: string): HostError {
  return new HostError({ code: 'HOST_BAD_INPUT', host, message, action, details: { pointer } });
}

function checkAbsolute(path: string, host: string, pointer: string): string {
  if (!path.startsWith('/') || /[\0\n]/.test(path)) {
    throw badInput(
      host,
      `${pointer} must be an absolute path without NUL or newline characters, not "${path}".`,
      'Give an absolute path.',
      pointer,
    );
  }
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

function checkRelative(path: string, host: string, pointer: string): string {
  const normalized = path.replace(/^\/+|\/+$/g, '').replace(/\/{2,}/g, '/');
  if (
    normalized === '' ||
    /[\0\n]/.test(normalized) ||
    normalized.split('/').some((part) => part === '.' || part === '..')
  ) {
    throw badInput(
      host,
      `${pointer} must be a path below the source root, not "${path}".`,
      'Give a path relative to the source directory, without "." or ".." parts.',
      pointer,
    );
  }
  return normalized;
}

function childPath(root: string, rel: string): string {
  if (rel === '') return root;
  return root === '/' ? `/${rel}` : `${root}/${rel}`;
}

/** `path` relative to `base` when it lies strictly below it ('' base: every path). */
function below(base: string, path: string): string | undefined {
  if (base === '') return path;
  return path.startsWith(`${base}/`) ? path.slice(base.length + 1) : undefined;
}

const LINK_TYPES_SCRIPT = String.raw`
i=0
while [ "$i" -lt "$DVX_COUNT" ]; do
  var="DVX_LINK_$i"; path="$DVX_ROOT/${'$'}{!var}"
  if [ -L "$path" ]; then
    if [ -d "$path" ]; then echo dir; elif [ -e "$path" ]; then echo file; else echo dangling; fi
  else
    echo notlink
  fi
  i=$((i + 1))
done
`;

/** Which of the symlinks to follow point at directories and which at files; non-links are copied as they are. */
async function resolveLinks(
  source: RunSyncSource,
  root: string,
  links: string[],
  signal: AbortSignal,
): Promise<Map<string, 'dir' | 'file'>> {
  const resolved = new Map<string, 'dir' | 'file'>();
  if (links.length === 0) return resolved;
  const variables: Record<string, string> = { DVX_ROOT: root, DVX_COUNT: String(links.length) };
  links.forEach((link, i) => (variables[`DVX_LINK_${i}`] = link));
  const result = await runBash(source.connection, LINK_TYPES_SCRIPT, { variables, check: true, signal });
  const types = result.stdout.trim().split('\n');
  links.forEach((link, i) => {
    const type = types[i];
    if (type === 'dangling') {
      throw badInput(
        source.connection.address.name,
        `The symlink to follow "${link}" on ${source.connection.address.name} points nowhere.`,
        'Fix the link on the source, or stop following it.',
        `/symLinksToFollow/${i}`,
      );
    }
    if (type === 'dir' || type === 'file') resolved.set(link, type);
  });
  return resolved;
}

/** The rsync runs for a copy: the root, then each followed link, parents first. */
function planPasses(excludes: string[], links: Map<string, 'dir' | 'file'>, deleteExtraneous: boolean): SyncPass[] {
  const roots: Array<{ rel: string; mode: 'dir' | 'file' }> = [
    { rel: '', mode: 'dir' },
    ...[...links].map(([rel, mode]) => ({ rel, mode })),
  ];
  roots.sort((a, b) => a.rel.split('/').length - b.rel.split('/').length || a.rel.localeCompare(b.rel));
  return roots.map(({ rel, mode }) => {
    // --omit-link-times: a symlink's own times are not copied. Over SFTP (an sshfs mount) setting them follows the
    // link, which fails while its target is not copied yet (rsync exits 23); nothing reads a link's times.
    const args = ['-a', '-H', '-s', '--numeric-ids', '--omit-link-times', '--stats'];
    if (mode === 'file') args.push('--copy-links');
    else {
      if (deleteExtraneous) args.push('--delete', '--force');
      for (const exclude of excludes) {
        const inner = below(rel, exclude);
        if (inner !== undefined) args.push(`--exclude=/${inner}`);
      }
      // A followed link is copied by its own pass; here it must be neither copied as a link nor deleted.
      for (const link of links.keys()) {
        const inner = below(rel, link);
        if (inner !== undefined) args.push(`--exclude=/${inner}`);
      }
    }
    return { rel, mode, args };
  });
}

function passPaths(
  pass: SyncPass,
  sourceRoot: string,
  destinationRoot: string,
): { source: string; destination: string } {
  const suffix = pass.mode === 'dir' ? '/' : '';
  return {
    source: `${childPath(sourceRoot, pass.rel)}${suffix}`.replace(/\/\/$/, '/'),
    destination: `${childPath(destinationRoot, pass.rel)}${suffix}`.replace(/\/\/$/, '/'),
  };
}

function runLocalRsync(args: string[], bridge: RshBridge, signal: AbortSignal): Promise<ExecResult> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<ExecResult>((resolve, reject) => {
    const child = spawn('rsync', [...args, '-e', bridge.rsh], {
      env: { ...process.env, ...bridge.env, LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const onAbort = () => child.kill('SIGTERM');
    signal.addEventListener('abort', onAbort, { once: true });
    child.once('error', (error) => {
      signal.removeEventListener('abort', onAbort);
      reject(toDvxError(error, { doing: 'run the local rsync' }));
    });
    child.once('close', (code, killedBy) => {
      signal.removeEventListener('abort', onAbort);
      resolve({
        exitCode: code ?? (killedBy ? 128 : 1),
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}

async function syncToEngine(
  source: RunSyncSource,
  sourceRoot: string,
  destinationRoot: string,
  passes: SyncPass[],
  signal: AbortSignal,
): Promise<RunSyncStats> {
  const host = source.connection.address.name;
  await mkdir(destinationRoot, { recursive: true });
  const bridge = await startRshBridge(source.connection, { signal });
  let output = '';
  try {
    for (const pass of passes) {
      const paths = passPaths(pass, sourceRoot, destinationRoot);
      if (pass.mode === 'file') await mkdir(dirname(paths.destination), { recursive: true });
      const before = bridge.sessions.length;
      const result = await runLocalRsync(
        [...pass.args, `dvx-source:${paths.source}`, paths.destination],
        bridge,
        signal,
      );
      if (signal.aborted) throw signal.reason;
      const sessions = bridge.sessions.slice(before);
      const failed = sessions.find((session) => session.error !== undefined);
      if (failed) throw toDvxError(failed.error, { host, doing: 'copy files' });
      if (!RSYNC_OK_EXIT_CODES.has(result.exitCode)) {
        const remoteExit = sessions.find((session) => session.exitCode === 127);
        const remoteStderr = sessions.map((session) => session.stderr).join('');
        throw rsyncFailureError(
          {
            exitCode: remoteExit ? 127 : result.exitCode,
            output: `${result.stderr}${remoteStderr ? `\n${remoteStderr}` : ''}`,
          },
          { source: host, destination: 'the engine', viaSsh: false },
        );
      }
      output += result.stdout;
    }
  } finally {
    await bridge.close();
  }
  return parseRsyncStats(output);
}

const HOST_TO_HOST_SCRIPT = String.raw`
set -u
export LC_ALL=C
command -v rsync >/dev/null 2>&1 || { echo "dvx-sync: rsync is not installed on the destination" >&2; exit 201; }
command -v ssh >/dev/null 2>&1 || { echo "dvx-sync: ssh is not installed on the destination" >&2; exit 202; }
[ -n "${'$'}{SSH_AUTH_SOCK:-}" ] || { echo "dvx-sync: no forwarded SSH agent (is AllowAgentForwarding off?)" >&2; exit 203; }
known_hosts=$(mktemp "${'$'}{TMPDIR:-/tmp}/dvx-known-hosts.XXXXXX") || exit 204
trap 'rm -f -- "$known_hosts"' EXIT
printf 'dvx-source %s\n' "$DVX_SOURCE_KEY" > "$known_hosts"
rsh="ssh -F /dev/null -p $DVX_SOURCE_PORT -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$known_hosts -o GlobalKnownHostsFile=/dev/null -o HostKeyAlias=dvx-source -o HostKeyAlgorithms=$DVX_SOURCE_KEY_ALGS -o CheckHostIP=no -o UpdateHostKeys=no -o PreferredAuthentications=publickey -o ConnectTimeout=20 -o ServerAliveInterval=15 -o LogLevel=ERROR"
i=0
while [ "$i" -lt "$DVX_PASSES" ]; do
  src_var="DVX_SRC_$i"; dst_var="DVX_DST_$i"; args_var="DVX_ARGS_$i"; mode_var="DVX_MODE_$i"
  args=()
  while IFS= read -r arg; do [ -n "$arg" ] && args+=("$arg"); done <<< "${'$'}{!args_var}"
  if [ "${'$'}{!mode_var}" = dir ]; then target="${'$'}{!dst_var}"; else target=$(dirname -- "${'$'}{!dst_var}"); fi
  mkdir -p -- "$target" || exit 205
  rsync "${'$'}{args[@]}" -e "$rsh" "$DVX_SOURCE_TARGET:${'$'}{!src_var}" "${'$'}{!dst_var}"
  status=$?
  [ "$status" -eq 0 ] || [ "$status" -eq 24 ] || exit "$status"
  i=$((i + 1))
done
exit 0
`;

const DESTINATION_MISSING: Record<number, { program: string; message: string }> = {
  201: { program: 'rsync', message: 'rsync is not installed on' },
  202: { program: 'ssh', message: 'the ssh client is not installed on' },
  203: { program: 'agent forwarding', message: 'SSH agent forwarding is disabled (AllowAgentForwarding) on' },
};

async function syncHostToHost(
  source: RunSyncSource,
  destination: { connection: HostConnection },
  sourceRoot: string,
  destinationRoot: string,
  passes: SyncPass[],
  options: { signal: AbortSignal },
): Promise<RunSyncStats> {
  const sourceName = source.connection.address.name;
  const destinationName = destination.connection.address.name;
  const signer = source.connection.keySigner();
  if (!signer) {
    throw new HostError({
      code: 'HOST_BAD_INPUT',
      host: sourceName,
      message: `Copying from ${sourceName} straight to ${destinationName} needs key authentication on ${sourceName}, whose environment uses a password.`,
      action: `Give ${sourceName}'s environment a private key, or copy into an engine path instead.`,
    });
  }
  // The key the engine has just verified against the pin: the destination will accept nothing else.
  const hostKey = await source.connection.hostKey();
  const keyType = hostKey.key.split(' ', 1)[0] ?? hostKey.key;
  const { host, port, user } = source.connection.address;
  const variables: Record<string, string> = {
    DVX_SOURCE_TARGET: `${user}@${host.includes(':') ? `[${host}]` : host}`,
    DVX_SOURCE_PORT: String(port),
    DVX_SOURCE_KEY: hostKey.key,
    DVX_SOURCE_KEY_ALGS: (hostKeyAlgorithmsFor(keyType) ?? [keyType]).join(','),
    DVX_PASSES: String(passes.length),
  };
  passes.forEach((pass, i) => {
    const paths = passPaths(pass, sourceRoot, destinationRoot);
    variables[`DVX_SRC_${i}`] = paths.source;
    variables[`DVX_DST_${i}`] = paths.destination;
    variables[`DVX_ARGS_${i}`] = pass.args.join('\n');
    variables[`DVX_MODE_${i}`] = pass.mode;
  });
  const result = await runBash(destination.connection, HOST_TO_HOST_SCRIPT, {
    variables,
    forwardAgent: signer,
    signal: options.signal,
  });
  const missing = DESTINATION_MISSING[result.exitCode];
  if (missing) {
    throw new HostError({
      code: 'HOST_CAPABILITY_MISSING',
      host: destinationName,
      message: `${missing.message} ${destinationName}, which a copy from ${sourceName} into it needs.`,
      action: `Enable ${missing.program} on ${destinationName}, or copy into an engine path instead.`,
      output: result.stderr,
    });
  }
  if (!RSYNC_OK_EXIT_CODES.has(result.exitCode))
    throw rsyncFailureError(
      { exitCode: result.exitCode, output: result.stderr },
      { source: sourceName, destination: destinationName, viaSsh: true },
    );
  return parseRsyncStats(result.stdout);
}

/**
 * Copies a directory tree from a host into an engine path or into a directory on another host, with rsync, and
 * returns what it did. No key or password is ever written to disk, and host keys are checked against their pins:
 *
 * - host to engine: the local rsync's remote shell is a bridge (hosts/rsh-bridge.mjs) that hands rsync's server
 *   command to the engine over a private unix socket; the engine runs it over the pooled SSH connection.
 * - host to host: rsync runs on the destination and pulls from the source over ssh, authenticated by the source
 *   environment's key through an agent forwarded from the engine, against the source's pinned key in a temporary
 *   known_hosts file. The source must use key authentication and be reachable from the destination.
 */
export async function runSync(options: RunSyncOptions): Promise<RunSyncStats> {
  const { from, to } = options;
  const host = from.connection.address.name;
  const log = (options.logger ?? silentLogger).child({ host });
  const sourceRoot = checkAbsolute(from.path, host, '/from/path');
  const destinationRoot = checkAbsolute(to.path, to.connection?.address.name ?? host, '/to/path');
  const excludes = (options.excludePaths ?? []).map((path, i) => checkRelative(path, host, `/excludePaths/${i}`));
  const links = (options.symLinksToFollow ?? []).map((path, i) => checkRelative(path, host, `/symLinksToFollow/${i}`));

  const deadline = startDeadline({
    signal: options.signal,
    timeoutMs: options.timeoutMs,
    timeoutError: (timeoutMs) =>
      new HostError({
        code: 'HOST_TIMEOUT',
        host,
        message: `Copying from ${host} did not finish within ${timeoutMs} ms and was stopped.`,
        action: 'Raise the timeout, or check the network and the size of what is copied.',
      }),
    what: `Copying from ${host}`,
  });
  const { signal } = deadline;
  const started = Date.now();
  try {
    const resolvedLinks = await resolveLinks(from, sourceRoot, links, signal);
    const passes = planPasses(excludes, resolvedLinks, options.deleteExtraneous ?? true);
    const stats = to.connection
      ? await syncHostToHost(from, { connection: to.connection }, sourceRoot, destinationRoot, passes, { signal })
      : await syncToEngine(from, sourceRoot, destinationRoot, passes, signal);
    log.info({ ...stats, ms: Date.now() - started, to: to.connection?.address.name ?? 'engine' }, 'copy done');
    return stats;
  } catch (error) {
    throw signal.aborted ? signal.reason : error;
  } finally {
    deadline.dispose();
  }
}
