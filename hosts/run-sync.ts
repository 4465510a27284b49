import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { HostError, RSYNC_OK_EXIT_CODES, rsyncFailureError, startDeadline, toDvxError } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { abortReason } from './as-error.js';
import { hostCommandLine } from './bash-bootstrap.js';
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
  /**
   * Leave the destination directory itself as it is (owner, group, mode, times) and copy only what the source directory
   * holds: for a mount root whose owner the mount specification set. Otherwise the destination directory takes the
   * source directory's owner, group and mode, as with `rsync -a src/ dst/`. @defaultValue false
   */
  keepDestinationRoot?: boolean;
  /**
   * Write what changed into the destination's existing files, block by block (rsync `--inplace --no-whole-file`), so
   * that on copy-on-write storage the blocks that did not change stay shared with the snapshots taken before (see
   * {@link inPlaceArgs}). `false`: rsync writes each changed file anew (a temporary file renamed over it). Either
   * way, a destination holding a file with another hard link is copied the second way. @defaultValue true
   */
  inPlace?: boolean;
  /** Stop the copy and fail with HOST_TIMEOUT after this long. @defaultValue no limit */
  timeoutMs?: number;
  /** Aborting stops the copy. */
  signal?: AbortSignal;
  /** @defaultValue silentLogger */
  logger?: Logger;
}

/** What {@link runSync} did. */
export interface RunSyncResult extends RunSyncStats {
  /** Whether changed files were written in place ({@link RunSyncOptions.inPlace}). */
  inPlace: boolean;
}

/**
 * rsync's options for a copy that keeps unchanged blocks shared on copy-on-write storage (btrfs, XFS and others with
 * reflinks): changed files are updated in place (`--inplace`), only the blocks whose checksums differ are written,
 * and they are compared in blocks of 4 KiB (`--block-size`), the page of the filesystems dvx stores on, so that a
 * changed 4 KiB page rewrites 4 KiB rather than the square root of the file size rsync picks by default (32 KiB for
 * 1 GiB). `--no-whole-file` keeps the delta transfer even where rsync would skip it (both paths local).
 *
 * rsync holds the checksums of the file it sends in memory on the source, about 40 bytes a block, and refuses to
 * allocate more than 1 GiB at once (`--max-alloc`, which rsync before 3.2 does not know): so the block size doubles
 * for every doubling of the largest file beyond {@link IN_PLACE_MAX_BLOCKS} blocks (32 GiB), which keeps those
 * checksums under about 320 MB, up to rsync's largest block (128 KiB, files of 1 TiB).
 *
 * What in place means, and why it is safe where dvx uses it:
 * - A sync that fails or is stopped leaves the file it was writing half updated (rsync's temporary file would have
 *   left the old one whole). The snapshot that follows a sync is taken only after the sync succeeded, so no snapshot
 *   holds such a file; the next sync finds it changed (its modification time is that of the failed write) and
 *   rewrites it.
 * - A process reading a file while it is updated sees old and new blocks mixed; with a rename it would keep reading
 *   the old file. Nothing of dvx reads a dSource while it syncs; a staged plugin that lets its own programs read the
 *   staging mount during `runSync` should stop them first, or ask for `inPlace: false`.
 * - A file with several hard links is changed through all of them: if the source no longer links two files that the
 *   destination still links, an update in place would write one file's data into the other. So a destination holding
 *   any file with more than one link is synced without `--inplace` (checked before each sync).
 *
 */
export function inPlaceArgs(largestFileBytes: number): string[] {
  let block = IN_PLACE_BLOCK_BYTES;
  while (block < 128 * 1024 && largestFileBytes / block > IN_PLACE_MAX_BLOCKS) block *= 2;
  return ['--inplace', '--no-whole-file', `--block-size=${block}`];
}

/** The block size of an in-place copy of files up to {@link IN_PLACE_MAX_BLOCKS} blocks. */
export const IN_PLACE_BLOCK_BYTES = 4096;
/** The most blocks rsync compares of one file before {@link inPlaceArgs} doubles the block size (8 Mi). */
export const IN_PLACE_MAX_BLOCKS = 8 * 1024 * 1024;

/** The size of the largest regular file under `root` on the source, counted only above 32 GiB (0 otherwise). */
async function largestBigFile(source: RunSyncSource, root: string, signal: AbortSignal): Promise<number> {
  // GNU find; a find without -printf reports nothing, and the copy keeps 4 KiB blocks.
  const result = await runBash(
    source.connection,
    'find "$DVX_ROOT" -type f -size +"$DVX_ABOVE_KIB"k -printf "%s\\n" 2>/dev/null | sort -n | tail -n 1',
    {
      variables: { DVX_ROOT: root, DVX_ABOVE_KIB: String((IN_PLACE_BLOCK_BYTES * IN_PLACE_MAX_BLOCKS) / 1024) },
      signal,
    },
  );
  const size = Number(result.stdout.trim());
  return Number.isFinite(size) ? size : 0;
}

/** One rsync run: the root of the copy, or one followed symlink under it. */
interface SyncPass {
  /** Path relative to both roots; '' for the roots themselves. */
  rel: string;
  /**
   * `dir`: the directory and what it holds (`src/` to `dst/`); `entries`: only what it holds, its top-level entries
   * listed on the source and handed to rsync as `--files-from`, so that the destination directory is left as it is;
   * `file`: one file.
   */
  mode: 'dir' | 'entries' | 'file';
  args: string[];
  /** A pass that only deletes (and fails when the source is missing): of its stats, only the deletions count. */
  pruneOnly?: boolean;
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

/** The rsync filters of a pass rooted at `rel`: the excludes under it, and the followed links (copied by their own pass). */
function passExcludes(rel: string, excludes: string[], links: Map<string, 'dir' | 'file'>): string[] {
  const args: string[] = [];
  for (const exclude of excludes) {
    const inner = below(rel, exclude);
    if (inner !== undefined) args.push(`--exclude=/${inner}`);
  }
  // A followed link is copied by its own pass; here it must be neither copied as a link nor deleted.
  for (const link of links.keys()) {
    const inner = below(rel, link);
    if (inner !== undefined) args.push(`--exclude=/${inner}`);
  }
  return args;
}

/**
 * The rsync runs for a copy: the root, then each followed link, parents first. With `keepDestinationRoot` the root takes
 * two runs, because rsync always gives the destination directory of `src/` the source directory's attributes (a filter
 * cannot leave out `.`): one over the top level only that deletes what the source no longer has there and changes
 * nothing else (no `-a`, nothing created or updated; it also fails when the source directory is missing), then one
 * over the list of top-level entries (`--files-from`, which leaves `.` out of the transfer).
 */
function planPasses(
  excludes: string[],
  links: Map<string, 'dir' | 'file'>,
  options: { deleteExtraneous: boolean; keepDestinationRoot: boolean },
): SyncPass[] {
  const roots: Array<{ rel: string; mode: 'dir' | 'file' }> = [
    { rel: '', mode: 'dir' },
    ...[...links].map(([rel, mode]) => ({ rel, mode })),
  ];
  roots.sort((a, b) => a.rel.split('/').length - b.rel.split('/').length || a.rel.localeCompare(b.rel));
  return roots.flatMap(({ rel, mode }): SyncPass[] => {
    // --omit-link-times: a symlink's own times are not copied. Over SFTP (an sshfs mount) setting them follows the
    // link, which fails while its target is not copied yet (rsync exits 23); nothing reads a link's times.
    const args = ['-a', '-H', '-s', '--numeric-ids', '--omit-link-times', '--stats'];
    if (mode === 'file') return [{ rel, mode, args: [...args, '--copy-links'] }];
    const deletes = options.deleteExtraneous ? ['--delete', '--force'] : [];
    const filters = passExcludes(rel, excludes, links);
    if (rel !== '' || !options.keepDestinationRoot) return [{ rel, mode, args: [...args, ...deletes, ...filters] }];
    return [
      {
        rel,
        mode: 'dir',
        args: ['-d', '-s', '--numeric-ids', '--stats', '--existing', '--ignore-existing', ...deletes, ...filters],
        pruneOnly: true,
      },
      // An entry removed between the listing and the copy is not an error: the copy is of the source as rsync finds it.
      { rel, mode: 'entries', args: [...args, '-r', '--from0', '--ignore-missing-args', ...deletes, ...filters] },
    ];
  });
}

function passPaths(
  pass: SyncPass,
  sourceRoot: string,
  destinationRoot: string,
): { source: string; destination: string } {
  const source = childPath(sourceRoot, pass.rel);
  const destination = childPath(destinationRoot, pass.rel);
  if (pass.mode === 'file') return { source, destination };
  const withSlash = (path: string) => (path.endsWith('/') ? path : `${path}/`);
  return { source: withSlash(source), destination: withSlash(destination) };
}

// Lists the top-level entries of the directory named on stdin, NUL-terminated, each as `./NAME`: the command an ssh
// from the destination runs on the source, readable by any login shell (see hostCommandLine).
const LIST_ENTRIES_COMMAND =
  'IFS= read -r -d "" d || exit 9; cd -- "$d" && exec find . -mindepth 1 -maxdepth 1 -print0';

/** `./a\0./b\0` as `a\0b\0`: an entry given as `./a` would bring `.` back into the transfer. */
function withoutDotSlash(list: Buffer): Buffer {
  const names: Buffer[] = [];
  let start = 0;
  for (let end = list.indexOf(0, start); end !== -1; start = end + 1, end = list.indexOf(0, start)) {
    const entry = list.subarray(start, end);
    names.push(entry[0] === 0x2e && entry[1] === 0x2f ? entry.subarray(2) : entry, Buffer.from([0]));
  }
  return Buffer.concat(names);
}

/** The top-level entries of `root` on the source host, for rsync's `--files-from` with `--from0`. */
async function listEntries(source: RunSyncSource, root: string, signal: AbortSignal): Promise<Buffer> {
  // Base64, so that names which are not UTF-8 arrive byte for byte.
  const result = await runBash(
    source.connection,
    `set -o pipefail; cd -- "$DVX_ROOT" && find . -mindepth 1 -maxdepth 1 -print0 | base64 | tr -d '\\n'`,
    { variables: { DVX_ROOT: root }, check: true, signal },
  );
  return withoutDotSlash(Buffer.from(result.stdout.trim(), 'base64'));
}

/** What one pass printed. */
interface PassOutput {
  output: string;
  pruneOnly: boolean;
}

/** Printed by the host-to-host script before each pass, so that each pass's stats are read apart. */
const PASS_MARK = 'dvx-sync-pass';
/** Printed by the host-to-host script before the passes: whether they write in place (1) or not (0). */
const IN_PLACE_MARK = 'dvx-sync-in-place';

/** The stats of the passes of one copy, summed; a prune pass adds only its deletions. */
function sumPassStats(outputs: PassOutput[]): RunSyncStats {
  const total = parseRsyncStats('');
  for (const { output, pruneOnly } of outputs) {
    const stats = parseRsyncStats(output);
    if (pruneOnly) {
      total.filesDeleted += stats.filesDeleted;
      total.bytesOnWire += stats.bytesOnWire;
      continue;
    }
    for (const key of Object.keys(total) as Array<keyof RunSyncStats>) total[key] += stats[key];
  }
  return total;
}

function runLocalRsync(args: string[], bridge: RshBridge, signal: AbortSignal, stdin?: Buffer): Promise<ExecResult> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<ExecResult>((resolve, reject) => {
    const child = spawn('rsync', [...args, '-e', bridge.rsh], {
      env: { ...process.env, ...bridge.env, LC_ALL: 'C' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // rsync reads the whole list (if any) before it starts; an early exit closes the pipe, reported by its status.
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
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

/**
 * Whether a directory may hold a regular file with more than one hard link (see {@link inPlaceArgs}): a find that
 * fails (an unreadable directory) cannot tell, and counts as yes.
 */
async function holdsHardLinks(root: string, signal: AbortSignal): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const child = spawn('find', [root, '-type', 'f', '-links', '+1', '-print', '-quit'], {
      stdio: ['ignore', 'pipe', 'ignore'],
      signal,
    });
    let found = false;
    child.stdout.on('data', () => (found = true));
    child.once('error', (error) => reject(toDvxError(error, { doing: 'look for hard links in the destination' })));
    child.once('close', (code) => resolve(found || code !== 0));
  });
}

async function syncToEngine(
  source: RunSyncSource,
  sourceRoot: string,
  destinationRoot: string,
  passes: SyncPass[],
  options: { inPlace: string[] | null; signal: AbortSignal },
): Promise<RunSyncResult> {
  const { signal } = options;
  const host = source.connection.address.name;
  await mkdir(destinationRoot, { recursive: true });
  const inPlace = options.inPlace && !(await holdsHardLinks(destinationRoot, signal)) ? options.inPlace : null;
  const bridge = await startRshBridge(source.connection, { signal });
  const outputs: PassOutput[] = [];
  try {
    for (const pass of passes) {
      const paths = passPaths(pass, sourceRoot, destinationRoot);
      if (pass.mode === 'file') await mkdir(dirname(paths.destination), { recursive: true });
      const list = pass.mode === 'entries' ? await listEntries(source, paths.source, signal) : undefined;
      const before = bridge.sessions.length;
      const result = await runLocalRsync(
        [
          ...pass.args,
          ...(inPlace && !pass.pruneOnly ? inPlace : []),
          ...(list ? ['--files-from=-'] : []),
          `dvx-source:${paths.source}`,
          paths.destination,
        ],
        bridge,
        signal,
        list,
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
      outputs.push({ output: result.stdout, pruneOnly: pass.pruneOnly === true });
    }
  } finally {
    await bridge.close();
  }
  return { ...sumPassStats(outputs), inPlace: inPlace !== null };
}

const HOST_TO_HOST_SCRIPT = String.raw`
set -u
export LC_ALL=C
command -v rsync >/dev/null 2>&1 || { echo "dvx-sync: rsync is not installed on the destination" >&2; exit 201; }
command -v ssh >/dev/null 2>&1 || { echo "dvx-sync: ssh is not installed on the destination" >&2; exit 202; }
[ -n "${'$'}{SSH_AUTH_SOCK:-}" ] || { echo "dvx-sync: no forwarded SSH agent (is AllowAgentForwarding off?)" >&2; exit 203; }
known_hosts=$(mktemp "${'$'}{TMPDIR:-/tmp}/dvx-known-hosts.XXXXXX") || exit 204
entries=$(mktemp "${'$'}{TMPDIR:-/tmp}/dvx-sync-entries.XXXXXX") || { rm -f -- "$known_hosts"; exit 204; }
trap 'rm -f -- "$known_hosts" "$entries" "$entries.raw"' EXIT
printf 'dvx-source %s\n' "$DVX_SOURCE_KEY" > "$known_hosts"
rsh="ssh -F /dev/null -p $DVX_SOURCE_PORT -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$known_hosts -o GlobalKnownHostsFile=/dev/null -o HostKeyAlias=dvx-source -o HostKeyAlgorithms=$DVX_SOURCE_KEY_ALGS -o CheckHostIP=no -o UpdateHostKeys=no -o PreferredAuthentications=publickey -o ConnectTimeout=20 -o ServerAliveInterval=15 -o LogLevel=ERROR"
# In place unless asked otherwise or a file here has other hard links (see inPlaceArgs in run-sync.ts).
in_place=$DVX_IN_PLACE
if [ "$in_place" = 1 ] && [ -d "$DVX_DESTINATION_ROOT" ]; then
  # A find that fails (an unreadable directory) cannot tell: not in place either.
  if ! linked=$(find "$DVX_DESTINATION_ROOT" -type f -links +1 -print -quit) || [ -n "$linked" ]; then in_place=0; fi
fi
printf '%s %s\n' "$IN_PLACE_MARK" "$in_place"
i=0
while [ "$i" -lt "$DVX_PASSES" ]; do
  src_var="DVX_SRC_$i"; dst_var="DVX_DST_$i"; args_var="DVX_ARGS_$i"; mode_var="DVX_MODE_$i"
  args=()
  while IFS= read -r arg; do [ -n "$arg" ] && args+=("$arg"); done <<< "${'$'}{!args_var}"
  copy_var="DVX_COPY_$i"
  if [ "$in_place" = 1 ] && [ "${'$'}{!copy_var}" = 1 ]; then
    while IFS= read -r arg; do [ -n "$arg" ] && args+=("$arg"); done <<< "$DVX_IN_PLACE_ARGS"
  fi
  if [ "${'$'}{!mode_var}" = file ]; then target=$(dirname -- "${'$'}{!dst_var}"); else target="${'$'}{!dst_var}"; fi
  mkdir -p -- "$target" || exit 205
  if [ "${'$'}{!mode_var}" = entries ]; then
    # The source's top-level entries, listed over the same ssh as rsync's (see LIST_ENTRIES_COMMAND), without "./".
    printf '%s\0' "${'$'}{!src_var}" | $rsh "$DVX_SOURCE_TARGET" "$DVX_LIST_COMMAND" > "$entries.raw" || { echo "dvx-sync: listing ${'$'}{!src_var} failed" >&2; exit 206; }
    while IFS= read -r -d '' name; do printf '%s\0' "${'$'}{name#./}"; done < "$entries.raw" > "$entries"
    rm -f -- "$entries.raw"
    args+=("--files-from=$entries")
  fi
  printf '%s %s\n' "$PASS_MARK" "$i"
  rsync "${'$'}{args[@]}" -e "$rsh" "$DVX_SOURCE_TARGET:${'$'}{!src_var}" "${'$'}{!dst_var}"
  status=$?
  [ "$status" -eq 0 ] || [ "$status" -eq 24 ] || exit "$status"
  i=$((i + 1))
done
exit 0
`;

/** Exit status of the host-to-host script when listing the source directory failed. */
const LISTING_FAILED = 206;

const DESTINATION_MISSING: Record<number, { program: string; message: string }> = {
  201: { program: 'rsync', message: 'rsync is not installed on' },
  202: { program: 'ssh', message: 'the ssh client is not installed on' },
  203: { program: 'agent forwarding', message: 'SSH agent forwarding is disabled (AllowAgentForwarding) on' },
};

/** The source's key, which a copy host to host needs (rsync on the destination logs in to the source with it). */
function sourceKeySigner(source: RunSyncSource, destination: { connection: HostConnection }) {
  const sourceName = source.connection.address.name;
  const signer = source.connection.keySigner();
  if (!signer) {
    throw new HostError({
      code: 'HOST_BAD_INPUT',
      host: sourceName,
      message: `Copying from ${sourceName} straight to ${destination.connection.address.name} needs key authentication on ${sourceName}, whose environment uses a password.`,
      action: `Give ${sourceName}'s environment a private key, or copy into an engine path instead.`,
    });
  }
  return signer;
}

async function syncHostToHost(
  source: RunSyncSource,
  destination: { connection: HostConnection },
  sourceRoot: string,
  destinationRoot: string,
  passes: SyncPass[],
  options: { inPlace: string[] | null; signal: AbortSignal },
): Promise<RunSyncResult> {
  const sourceName = source.connection.address.name;
  const destinationName = destination.connection.address.name;
  const signer = sourceKeySigner(source, destination);
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
    variables[`DVX_COPY_${i}`] = pass.pruneOnly ? '0' : '1';
  });
  variables.DVX_IN_PLACE = options.inPlace ? '1' : '0';
  variables.DVX_IN_PLACE_ARGS = (options.inPlace ?? []).join('\n');
  variables.DVX_DESTINATION_ROOT = destinationRoot;
  variables.IN_PLACE_MARK = IN_PLACE_MARK;
  variables.PASS_MARK = PASS_MARK;
  variables.DVX_LIST_COMMAND = hostCommandLine(LIST_ENTRIES_COMMAND, sourceName, { reportPid: false });
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
  if (result.exitCode === LISTING_FAILED) {
    throw new HostError({
      code: 'HOST_COMMAND_FAILED',
      host: sourceName,
      message: `Listing ${sourceRoot} on ${sourceName} from ${destinationName} failed.`,
      action: `Check that ${sourceRoot} is a directory the source environment's user can read.`,
      output: result.stderr,
    });
  }
  if (!RSYNC_OK_EXIT_CODES.has(result.exitCode))
    throw rsyncFailureError(
      { exitCode: result.exitCode, output: result.stderr },
      { source: sourceName, destination: destinationName, viaSsh: true },
    );
  const chunks = result.stdout.split(new RegExp(`^${PASS_MARK} (\\d+)$`, 'm'));
  const outputs: PassOutput[] = [];
  for (let i = 1; i < chunks.length; i += 2) {
    const pass = passes[Number(chunks[i])];
    outputs.push({ output: chunks[i + 1] ?? '', pruneOnly: pass?.pruneOnly === true });
  }
  const inPlace = new RegExp(`^${IN_PLACE_MARK} 1$`, 'm').test(chunks[0] ?? '');
  return { ...sumPassStats(outputs), inPlace };
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
export async function runSync(options: RunSyncOptions): Promise<RunSyncResult> {
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
  // Before anything runs on the source, a password source is refused for a copy host to host.
  if (to.connection) sourceKeySigner(from, { connection: to.connection });
  try {
    const resolvedLinks = await resolveLinks(from, sourceRoot, links, signal);
    const passes = planPasses(excludes, resolvedLinks, {
      deleteExtraneous: options.deleteExtraneous ?? true,
      keepDestinationRoot: options.keepDestinationRoot ?? false,
    });
    const inPlace = (options.inPlace ?? true) ? inPlaceArgs(await largestBigFile(from, sourceRoot, signal)) : null;
    const stats = to.connection
      ? await syncHostToHost(from, { connection: to.connection }, sourceRoot, destinationRoot, passes, {
          inPlace,
          signal,
        })
      : await syncToEngine(from, sourceRoot, destinationRoot, passes, { inPlace, signal });
    if (inPlace !== null && !stats.inPlace)
      log.warn(
        { destination: destinationRoot },
        'the destination holds files with several hard links: synced without --inplace, so changed files share no blocks with earlier snapshots',
      );
    log.info({ ...stats, ms: Date.now() - started, to: to.connection?.address.name ?? 'engine' }, 'copy done');
    return stats;
  } catch (error) {
    throw signal.aborted ? signal.reason : error;
  } finally {
    deadline.dispose();
  }
}
