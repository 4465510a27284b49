// Import resolver (eslint-module-utils interface v2) for the boundary rules. Sources are NodeNext ESM, so
// `./x.js` names `./x.ts`; eslint-import-resolver-node does not know that, and eslint-import-resolver-typescript
// needs a native binary per platform (unrs-resolver) that the lock file could not carry for every platform.
'use strict';
const { existsSync, statSync } = require('node:fs');
const { builtinModules, createRequire } = require('node:module');
const { dirname, join, resolve } = require('node:path');

const root = resolve(__dirname, '..', '..');
const builtins = new Set(builtinModules);

function isFile(path) {
  return existsSync(path) && statSync(path).isFile();
}

function resolveRelative(target) {
  const candidates = [
    target.replace(/\.js$/, '.ts'),
    target.replace(/\.js$/, '.tsx'),
    target.replace(/\.mjs$/, '.mts'),
    target,
    `${target}.ts`,
  ];
  candidates.push(join(target, 'index.ts'));
  return candidates.find(isFile) ?? null;
}

exports.interfaceVersion = 2;

exports.resolve = function resolveImport(source, file) {
  if (source.startsWith('node:') || builtins.has(source)) return { found: true, path: null };
  // dvx's own public edge, as plugins import it: the package's exports map it to the built operations/sdk.
  if (source === 'dvx/sdk') return { found: true, path: join(root, 'operations', 'sdk', 'index.ts') };
  if (source.startsWith('.') || source.startsWith('/')) {
    const path = resolveRelative(resolve(dirname(file), source));
    return path ? { found: true, path } : { found: false };
  }
  try {
    return { found: true, path: createRequire(file).resolve(source) };
  } catch {
    // ESM-only packages (no "require" condition) still are packages: report them found, outside the tree.
    return { found: true, path: null };
  }
};
