import { readdir, readFile, realpath } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { must } from '../harness/must.js';

// semver ships no types; these are the two functions used.
const semver = createRequire(import.meta.url)('semver') as {
  satisfies(version: string, range: string, options?: { includePrerelease?: boolean }): boolean;
  minVersion(range: string): { version: string; major: number; minor: number } | null;
};

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Manifest {
  name?: string;
  version?: string;
  engines?: { node?: string };
}

async function readManifest(dir: string): Promise<Manifest | null> {
  try {
    return JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Manifest;
  } catch {
    return null;
  }
}

/** Every package installed under `dir`/node_modules, nested ones included, each once. */
async function installedPackages(
  dir: string,
  seen = new Set<string>(),
): Promise<{ path: string; manifest: Manifest }[]> {
  const modules = join(dir, 'node_modules');
  let names: string[];
  try {
    names = await readdir(modules);
  } catch {
    return [];
  }
  const found: { path: string; manifest: Manifest }[] = [];
  const dirs: string[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue;
    if (name.startsWith('@')) dirs.push(...(await readdir(join(modules, name))).map((sub) => join(modules, name, sub)));
    else dirs.push(join(modules, name));
  }
  for (const path of dirs) {
    const real = await realpath(path).catch(() => null);
    if (!real || seen.has(real)) continue;
    seen.add(real);
    const manifest = await readManifest(path);
    if (manifest) found.push({ path, manifest });
    found.push(...(await installedPackages(path, seen)));
  }
  return found;
}

async function lockedPackages(): Promise<{ path: string; manifest: Manifest }[]> {
  const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, Manifest>;
  };
  return Object.entries(lock.packages)
    .filter(([path]) => path !== '')
    .map(([path, manifest]) => ({ path: join(ROOT, path), manifest }));
}

/** The packages whose `engines.node` leaves out `version`, as `path@version wants range`. */
function excluding(packages: { path: string; manifest: Manifest }[], version: string): string[] {
  return packages
    .filter(({ manifest }) => {
      const range = manifest.engines?.node;
      return range !== undefined && !semver.satisfies(version, range, { includePrerelease: true });
    })
    .map(
      ({ path, manifest }) =>
        `${relative(ROOT, path)}@${manifest.version ?? '?'} wants node ${manifest.engines?.node ?? ''}`,
    )
    .sort();
}

describe('the Node version dvx documents', () => {
  it('is the same in package.json, README.md and CONTRIBUTING.md, and the Node running the tests is in it', async () => {
    const range = must((await readManifest(ROOT))?.engines?.node, "package.json's engines.node");
    const lowest = must(semver.minVersion(range), `the lowest version of ${range}`);
    const documented = `Node ${lowest.major}.${lowest.minor}`;
    expect(await readFile(join(ROOT, 'README.md'), 'utf8')).toContain(documented);
    expect(await readFile(join(ROOT, 'CONTRIBUTING.md'), 'utf8')).toContain(documented);
    expect(semver.satisfies(process.version, range)).toBe(true);
  });

  it('is accepted by every package the lock file installs (npm warns EBADENGINE otherwise)', async () => {
    const range = must((await readManifest(ROOT))?.engines?.node, "package.json's engines.node");
    const lowest = must(semver.minVersion(range), `the lowest version of ${range}`).version;
    const packages = await lockedPackages();
    expect(packages.length).toBeGreaterThan(100);
    expect(excluding(packages, lowest)).toEqual([]);
    expect(excluding(packages, process.version)).toEqual([]);
  });

  it('is accepted by every package installed in node_modules, nested ones included', async () => {
    const range = must((await readManifest(ROOT))?.engines?.node, "package.json's engines.node");
    const lowest = must(semver.minVersion(range), `the lowest version of ${range}`).version;
    const packages = [...(await installedPackages(ROOT)), ...(await installedPackages(join(ROOT, 'tools', 'lint')))];
    expect(packages.length).toBeGreaterThan(100);
    expect(excluding(packages, lowest)).toEqual([]);
    expect(excluding(packages, process.version)).toEqual([]);
  });
});
