import { readFile } from 'node:fs/promises';

/** Decodes the octal escapes of /proc/self/mountinfo paths (`\040` for a space). */
function unescape(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Mount points of this mount namespace. */
export async function localMountPoints(): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => unescape(line.split(' ')[4]!));
}

/** Mount points at `path` or below it. */
export async function mountsUnder(path: string): Promise<string[]> {
  const prefix = path.replace(/\/+$/, '');
  return (await localMountPoints()).filter((mount) => mount === prefix || mount.startsWith(`${prefix}/`));
}
