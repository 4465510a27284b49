#!/usr/bin/env node
// Copies the non-TypeScript files the compiled engine needs next to their compiled neighbours in dist/.
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Single files. */
export const ASSETS = ['hosts/rsh-bridge.mjs'];
/**
 * Folders whose files with the given ending are all copied: the run store's Redis scripts; the Python packages of
 * Python plugins (`dlpx.virtualization`, with sub-folders: `recursive`, and the copy in dist/ replaced as a whole so
 * that a module removed from the source does not linger).
 */
export const ASSET_DIRS = [
  { dir: 'model/lua', ending: '.lua' },
  { dir: 'operations/python', ending: '.py', recursive: true },
];

function filesOf(dir, ending, recursive) {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return recursive && entry.name !== '__pycache__' ? filesOf(path, ending, recursive) : [];
    return entry.name.endsWith(ending) ? [path] : [];
  });
}

for (const { dir, recursive } of ASSET_DIRS)
  if (recursive) rmSync(join(root, 'dist', dir), { recursive: true, force: true });
const assets = [...ASSETS, ...ASSET_DIRS.flatMap(({ dir, ending, recursive }) => filesOf(dir, ending, recursive))];
for (const asset of assets) {
  const target = join(root, 'dist', asset);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(join(root, asset), target);
}
