import { posix } from 'node:path';
import { unsafeTextIssue } from './safe-text.js';

/**
 * What is wrong with `path` as a `unixpath` (vSDK format), or null: dvx takes an absolute, normalised path (no `.`
 * or `..` segment, no doubled or trailing `/`) of printable characters, at most 4096 bytes.
 */
export function unixPathIssue(path: string): string | null {
  if (!path) return 'must be a non-empty absolute path';
  const unsafe = unsafeTextIssue(path);
  if (unsafe) return unsafe;
  if (!path.startsWith('/')) return `must be an absolute path (starting with "/"), not "${path}"`;
  if (Buffer.byteLength(path) > 4096) return 'must be at most 4096 bytes long';
  const normal = posix.normalize(path);
  if (normal !== path || (path.length > 1 && path.endsWith('/')))
    return `must be a normalised path (no ".", ".." or empty segment, no trailing "/"): "${normal.replace(/(.)\/$/, '$1')}"`;
  return null;
}

/** Directories no storage may be mounted on (exactly these); nor anything below the first three. */
const BELOW_REFUSED = ['/proc', '/sys', '/dev'];
const SYSTEM_DIRECTORIES = new Set([
  '/',
  ...BELOW_REFUSED,
  '/bin',
  '/boot',
  '/etc',
  '/home',
  '/media',
  '/mnt',
  '/opt',
  '/root',
  '/run',
  '/sbin',
  '/srv',
  '/tmp',
  '/usr',
  '/usr/bin',
  '/usr/include',
  '/usr/lib',
  '/usr/lib32',
  '/usr/lib64',
  '/usr/libexec',
  '/usr/local',
  '/usr/sbin',
  '/usr/share',
  '/usr/src',
  '/var',
  '/var/backups',
  '/var/cache',
  '/var/lib',
  '/var/local',
  '/var/lock',
  '/var/log',
  '/var/mail',
  '/var/opt',
  '/var/run',
  '/var/spool',
  '/var/tmp',
]);

/** Whether `path` (normalised) is a system directory of a Unix host (see {@link SYSTEM_DIRECTORIES}). */
export function isSystemDirectory(path: string): boolean {
  return (
    SYSTEM_DIRECTORIES.has(path) || /^\/lib[^/]*$/.test(path) || BELOW_REFUSED.some((top) => path.startsWith(`${top}/`))
  );
}

/**
 * What is wrong with `path` as a place to mount storage, or null: a {@link unixPathIssue}, or a system directory.
 * (Whether the directory is empty is checked on the host, when mounting.)
 */
export function mountPathIssue(path: string): string | null {
  const syntax = unixPathIssue(path);
  if (syntax) return syntax;
  if (isSystemDirectory(path)) return `is the system directory ${path}: storage is never mounted over it`;
  return null;
}
