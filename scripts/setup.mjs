#!/usr/bin/env node
// Prepares this checkout to run: system packages, npm packages, compiled output.
// Uses only Node's standard library, so it works before `npm ci`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Debian packages dvx needs, with a program that proves each is installed. */
const SYSTEM_PACKAGES = [
  { pkg: 'redis-server', probe: '/usr/bin/redis-server' },
  { pkg: 'openssh-server', probe: '/usr/sbin/sshd' },
  { pkg: 'openssh-client', probe: '/usr/bin/ssh-keygen' },
  { pkg: 'rsync', probe: '/usr/bin/rsync' },
  { pkg: 'btrfs-progs', probe: '/usr/bin/btrfs' },
  { pkg: 'expect', probe: '/usr/bin/expect' },
  { pkg: 'psmisc', probe: '/usr/bin/fuser' },
  { pkg: 'procps', probe: '/usr/bin/pgrep' },
  { pkg: 'util-linux', probe: '/usr/sbin/losetup' },
  { pkg: 'iproute2', probe: '/usr/sbin/ip' },
  // The sshfs mount transport (storage/sshfs-mount-transport.ts): sshfs on hosts, the dedicated SFTP sshd on the engine.
  { pkg: 'sshfs', probe: '/usr/bin/sshfs' },
  // Login shells outside the POSIX family, for the tests of commands run through them (test/hosts/non-posix-login-shell).
  { pkg: 'tcsh', probe: '/usr/bin/tcsh' },
  { pkg: 'fish', probe: '/usr/bin/fish' },
  // Python plugins (vSDK): the dlpx.virtualization package and the runner use Python 3.11's standard library only.
  { pkg: 'python3', probe: '/usr/bin/python3' },
];

function log(message) {
  process.stderr.write(`[dvx setup] ${message}\n`);
}

function fail(message) {
  log(message);
  process.exit(1);
}

function checkNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    fail(
      `Node ${process.versions.node} is too old: dvx needs Node 20.19 or newer. Install a newer Node.js and run again.`,
    );
  }
}

function ensureSystemPackages(extra = []) {
  const missing = [...SYSTEM_PACKAGES, ...extra].filter(({ probe }) => !existsSync(probe)).map(({ pkg }) => pkg);
  if (missing.length === 0) return;
  const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    fail(
      `Missing system packages: ${missing.join(', ')}.\nRun as root:\n  apt-get update && ${command}\nthen run this command again.`,
    );
  }
  log(`installing system packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let result = spawnSync('sh', ['-c', command], { stdio: 'inherit', env });
  if (result.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
    result = spawnSync('sh', ['-c', command], { stdio: 'inherit', env });
  }
  if (result.status !== 0) fail(`Could not install ${missing.join(', ')} with apt-get. Fix apt and run again.`);
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function ensureNpmPackages() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  if (
    existsSync(marker) &&
    mtime(marker) >= mtime(join(root, 'package-lock.json')) &&
    mtime(marker) >= mtime(join(root, 'package.json'))
  )
    return;
  log('installing npm packages (npm ci)');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status === 0) return;
  // The lock pins everything; `npm install --no-save` is a fallback for a registry mirror that lacks
  // some other platform's optional binaries, and still installs the locked versions.
  log('npm ci failed; retrying with npm install --no-save');
  const retry = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (retry.status !== 0) fail('npm install failed; see the output above.');
}

const SOURCE_DIRS = [
  'errors',
  'log',
  'machines',
  'workers',
  'operations',
  'schemas',
  'storage',
  'hosts',
  'model',
  'services',
  'api',
  'cli',
  // The web console, built by vite into dist/console.
  'console',
];

function newestSource(dir) {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (/\.(ts|tsx|json|mjs|lua|py|css|html)$/.test(entry.name)) newest = Math.max(newest, mtime(path));
  }
  return newest;
}

function ensureBuilt() {
  const stamp = join(root, 'dist', '.build-stamp');
  const newest = Math.max(
    mtime(join(root, 'tsconfig.json')),
    mtime(join(root, 'tsconfig.build.json')),
    ...SOURCE_DIRS.map((dir) => newestSource(join(root, dir))),
  );
  if (mtime(stamp) >= newest) return;
  log('compiling (tsc -p tsconfig.build.json)');
  const tsc = join(root, 'node_modules', '.bin', 'tsc');
  const result = spawnSync(tsc, ['-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) fail('compilation failed; see the errors above.');
  const assets = spawnSync(process.execPath, [join(root, 'scripts', 'copy-assets.mjs')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (assets.status !== 0) fail('copying assets into dist/ failed; see the errors above.');
  log('building the web console (vite build --config console/vite.config.ts)');
  const vite = spawnSync(join(root, 'node_modules', '.bin', 'vite'), ['build', '--config', 'console/vite.config.ts'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (vite.status !== 0) fail('building the web console failed; see the errors above.');
  execFileSync('touch', [stamp]);
}

checkNode();
// `npm test` also needs PostgreSQL (the postgres plugin's end-to-end test) and Chromium (the web console's browser
// tests drive Debian's chromium with playwright-core; no browser is downloaded).
const extra = process.argv.includes('--postgres')
  ? [
      { pkg: 'postgresql', probe: '/usr/lib/postgresql' },
      { pkg: 'chromium', probe: '/usr/bin/chromium' },
    ]
  : [];
ensureSystemPackages(extra);
ensureNpmPackages();
if (!process.argv.includes('--no-build')) ensureBuilt();
