#!/usr/bin/env node
// Copies the non-TypeScript files the compiled engine needs next to their compiled neighbours in dist/.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Single files. */
export const ASSETS = ['hosts/rsh-bridge.mjs'];
/** Folders whose files with the given ending are all copied: the run store's Redis scripts. */
export const ASSET_DIRS = [{ dir: 'model/lua', ending: '.lua' }];

const assets = [
  ...ASSETS,
  ...ASSET_DIRS.flatMap(({ dir, ending }) =>
    readdirSync(join(root, dir))
      .filter((name) => name.endsWith(ending))
      .map((name) => `${dir}/${name}`),
  ),
];
for (const asset of assets) {
  const target = join(root, 'dist', asset);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(join(root, asset), target);
}
