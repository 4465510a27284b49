// PostgreSQL for tests: find the binaries, run a source cluster as the postgres OS user, query any cluster, and
// stop every postgres under a directory (staging standbys and VDBs the plugin started) by pid.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { localMountPoints } from '../../storage/local-mounts.js';

const run = promisify(execFile);

export const PG_OS_USER = 'postgres';

/** The newest /usr/lib/postgresql/N/bin that has everything the tests use, or null. */
export function findPostgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = join(root, version, 'bin');
    if (
      ['postgres', 'initdb', 'pg_ctl', 'psql', 'pgbench', 'pg_basebackup'].every((tool) => existsSync(join(bin, tool)))
    )
      return bin;
  }
  return null;
}

/**
 * The PostgreSQL bin directory, or an error saying how to install PostgreSQL: the suite fails rather than skips
 * when it is missing, so that CI cannot pass without running it (`npm test` installs it through setup).
 */
export function requirePostgres(): string {
  const bin = findPostgresBin();
  const missing = [
    ...(bin === null
      ? ['the PostgreSQL binaries (initdb, pg_ctl, psql, pgbench, pg_basebackup under /usr/lib/postgresql/N/bin)']
      : []),
    ...(hasPostgresUser() ? [] : [`the ${PG_OS_USER} OS user`]),
  ];
  if (bin === null || missing.length > 0) {
    throw new Error(
      `test/postgres needs ${missing.join(' and ')}, which this machine lacks. Install PostgreSQL with \`node scripts/setup.mjs --postgres\` (npm test does) and run the suite again.`,
    );
  }
  return bin;
}

/** Whether the postgres OS user exists (PostgreSQL refuses to run as root). */
export function hasPostgresUser(): boolean {
  try {
    return readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .some((line) => line.startsWith(`${PG_OS_USER}:`));
  } catch {
    return false;
  }
}

/** Runs a command as the postgres OS user, from /. */
export async function asPostgres(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<string> {
  const { stdout } = await run('runuser', ['-u', PG_OS_USER, '--', command, ...args], {
    cwd: '/',
    env: { ...process.env, ...options.env },
    timeout: options.timeoutMs ?? 300_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/** One query on 127.0.0.1:port as `user` (trust on the source and through the VDB's copy of its pg_hba). */
export async function sql(
  bin: string,
  port: number,
  query: string,
  options: { user?: string; db?: string } = {},
): Promise<string> {
  return (
    await asPostgres(join(bin, 'psql'), [
      '-X',
      '-A',
      '-t',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-U',
      options.user ?? PG_OS_USER,
      '-d',
      options.db ?? 'postgres',
      '-c',
      query,
    ])
  ).trim();
}

export interface SourceCluster {
  dataDir: string;
  port: number;
  replicationUser: string;
  password: string;
  stop(): Promise<void>;
}

/**
 * A source cluster: initdb as postgres, listening on 127.0.0.1:port, with a replication user whose password
 * pg_hba.conf checks (scram) for replication connections from 127.0.0.1; everything else is trust.
 */
export async function startSourceCluster(options: {
  bin: string;
  dir: string;
  port: number;
  replicationUser: string;
  password: string;
  /** More addresses to listen on than 127.0.0.1 (an isolated staging host reaches the engine machine at its link's). */
  listenAddresses?: string[];
  /** Networks (CIDR) the replication user may connect from besides 127.0.0.1, with the password. */
  replicationFrom?: string[];
}): Promise<SourceCluster> {
  const { bin, dir, port } = options;
  const networks = ['127.0.0.1/32', ...(options.replicationFrom ?? [])];
  const listen = ['127.0.0.1', ...(options.listenAddresses ?? [])].join(',');
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o755);
  await run('chown', [`${PG_OS_USER}:`, dir]);
  const dataDir = join(dir, 'data');
  await asPostgres(join(bin, 'initdb'), ['-D', dataDir, '-U', PG_OS_USER, '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const hbaPath = join(dataDir, 'pg_hba.conf');
  const hba = await readFile(hbaPath, 'utf8');
  await writeFile(
    hbaPath,
    `${networks
      .map(
        (network) =>
          `host replication ${options.replicationUser} ${network} scram-sha-256\nhost all ${options.replicationUser} ${network} scram-sha-256\n`,
      )
      .join('')}${hba}`,
  );
  await writeFile(
    join(dataDir, 'postgresql.conf'),
    `\nport = ${port}\nlisten_addresses = '${listen}'\nunix_socket_directories = '${dir}'\nwal_level = replica\nmax_wal_senders = 10\nfsync = on\n`,
    { flag: 'a' },
  );
  await run('chown', [`${PG_OS_USER}:`, hbaPath, join(dataDir, 'postgresql.conf')]);
  const cluster: SourceCluster = {
    dataDir,
    port,
    replicationUser: options.replicationUser,
    password: options.password,
    async stop() {
      await stopPostgresIn(dataDir);
    },
  };
  try {
    await asPostgres(join(bin, 'pg_ctl'), ['-D', dataDir, '-l', join(dir, 'source.log'), '-w', '-t', '60', 'start']);
    await sql(
      bin,
      port,
      `create role ${options.replicationUser} with login replication password '${options.password.replace(/'/g, "''")}'`,
    );
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

/** pid of the postmaster of a data directory, if one runs. */
async function postmasterPid(dataDir: string): Promise<number | null> {
  try {
    const pid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 0) return null;
    return (await readlink(`/proc/${pid}/cwd`)) === dataDir ? pid : null;
  } catch {
    return null;
  }
}

/** Postmasters (pid, data directory) whose data directory is `dir` or under it. */
export async function postmastersUnder(dir: string): Promise<{ pid: number; dataDir: string }[]> {
  const found: { pid: number; dataDir: string }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const exe = await readlink(`/proc/${entry}/exe`);
      if (!exe.endsWith('/postgres')) continue;
      const cwd = await readlink(`/proc/${entry}/cwd`);
      if (cwd !== dir && !cwd.startsWith(`${dir}/`)) continue;
      if ((await postmasterPid(cwd)) === Number(entry)) found.push({ pid: Number(entry), dataDir: cwd });
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** pids of postgres processes listening on a TCP port (ss -p). */
export async function postgresOnPort(port: number): Promise<number[]> {
  const { stdout } = await run('ss', ['-Htlnp', `sport = :${port}`]).catch(() => ({ stdout: '' }));
  return [...stdout.matchAll(/"postgres",pid=(\d+)/g)].map((match) => Number(match[1]));
}

/** Stops the postmaster of a data directory: fast, then immediate, then SIGKILL of its pid. */
async function stopPostgresIn(dataDir: string): Promise<void> {
  const pid = await postmasterPid(dataDir);
  if (pid === null) return;
  const bin = findPostgresBin();
  if (bin) {
    for (const mode of ['fast', 'immediate']) {
      await asPostgres(join(bin, 'pg_ctl'), ['-D', dataDir, '-m', mode, '-w', '-t', '30', 'stop'], {
        timeoutMs: 40_000,
      }).catch(() => undefined);
      if ((await postmasterPid(dataDir)) === null) return;
    }
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** What a test or benchmark left under `dir`: every postmaster whose data directory is there, then its mounts, deepest first. */
export async function stopPostgresAndUnmountUnder(dir: string): Promise<void> {
  for (const { dataDir } of await postmastersUnder(dir)) await stopPostgresIn(dataDir);
  for (const mount of (await localMountPoints()).filter((path) => path.startsWith(`${dir}/`)).reverse())
    await run('umount', ['-l', mount]).catch(() => undefined);
}

export interface FakeInstallation {
  /** The `bin` directory discovery finds, e.g. /usr/pgsql-99-dvx-test-Ab12Cd/bin. */
  binDir: string;
  /** `postgres --version` of it, e.g. `99.1`. */
  version: string;
  /** Every call of its tools, one line each: `postgres --version`, `pg_ctl -D ... start`. */
  calls(): Promise<string[]>;
  /** Deletes the installation (idempotent). */
  remove(): Promise<void>;
}

/**
 * A fake PostgreSQL installation of another major version, where the plugin's discovery looks (`/usr/pgsql-N/bin`, the
 * PGDG RPM layout, a tree the test owns whole): `postgres`, `pg_ctl` and `psql` answer `--version` and
 * refuse everything else, logging every call, so a test can tell whether anything tried to run a server with them.
 */
export async function installFakePostgres(version: string): Promise<FakeInstallation> {
  const root = await mkdtemp(`/usr/pgsql-${version.split('.')[0]}-dvx-test-`);
  await chmod(root, 0o755);
  const binDir = join(root, 'bin');
  const log = join(root, 'calls.log');
  await mkdir(binDir, { mode: 0o755 });
  // Written to by whoever runs the tools: the login user (root) or the PostgreSQL OS user.
  await writeFile(log, '');
  await chmod(log, 0o666);
  for (const tool of ['postgres', 'pg_ctl', 'psql']) {
    const script = [
      '#!/bin/sh',
      `echo "${tool} $*" >> '${log}' 2>/dev/null`,
      `if [ "\${1:-}" = --version ]; then echo '${tool} (PostgreSQL) ${version}'; exit 0; fi`,
      `echo '${tool}: a fake PostgreSQL ${version} installed by test/postgres, it runs nothing' >&2`,
      'exit 1',
      '',
    ].join('\n');
    await writeFile(join(binDir, tool), script);
    await chmod(join(binDir, tool), 0o755);
  }
  return {
    binDir,
    version,
    async calls() {
      return (await readFile(log, 'utf8').catch(() => '')).split('\n').filter((line) => line.length > 0);
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
