import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { HostAddress, HostCredentials, HostSpec } from '../../hosts/index.js';
import { makeTempDir } from './temp-dir.js';
import { freePort } from './free-port.js';
import { descendantsOf, killPids, processesWithEnv } from './ssh-processes.js';
import { waitFor } from './wait-for.js';
import { must } from './must.js';

const execFileAsync = promisify(execFile);

/** The environment variable every process of a test host carries (sshd itself and, through SetEnv, its sessions). */
export const SSH_HOST_MARKER_VAR = 'DVX_TEST_SSH_HOST';

/** Options of {@link startSshHosts}; they apply to every host started. */
export interface SshHostsOptions {
  /** Let users log in with a password (root still only by key). @defaultValue false */
  passwordAuthentication?: boolean;
  /** PATH of the sessions, instead of sshd's default. Lets a test hide a program from the host. @defaultValue sshd's default */
  sessionPath?: string;
  /** Extra sshd_config lines; they take precedence over the harness's own. @defaultValue none */
  extraConfig?: string[];
  /**
   * Let each login user keep the home of the password database instead of the host's {@link TestSshHost.home}, for
   * users other than root whose shell writes there (fish keeps its history in it). @defaultValue false
   */
  usersOwnHomes?: boolean;
}

/** One sshd "host" on a loopback port, with its own host key, home and authorised client key. */
export interface TestSshHost {
  readonly name: string;
  readonly address: HostAddress;
  /** The client private key, authorised on this host. */
  readonly credentials: HostCredentials;
  /** The host's current public key (`ssh-ed25519 AAAA...`); changes with {@link rotateHostKey}. */
  readonly hostKey: string;
  /** $HOME of the sessions (SetEnv HOME), so that each host has its own. */
  readonly home: string;
  /** The host's directory: config, keys, log, pid file. */
  readonly dir: string;
  /** sshd's log (LogLevel VERBOSE). */
  readonly logFile: string;
  /** A spec for the pool, pinned to the current host key unless overridden. */
  spec(overrides?: Partial<HostSpec>): HostSpec;
  /**
   * A spec that logs in as another local user with its password (hosts started with `passwordAuthentication`; sshd
   * reads the client key's file as the user, who may not enter the host's directory).
   */
  specAs(user: { name: string; password: string }, overrides?: Partial<HostSpec>): HostSpec;
  /** pid of the listening sshd, while it runs. */
  pid(): number | undefined;
  start(): Promise<void>;
  /** Kills sshd and every process of its sessions, like a host going down. */
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** Generates a new host key (effective on the next start); returns it. */
  rotateHostKey(): Promise<string>;
  /** How many logins sshd accepted so far (from its log). */
  acceptedLogins(): Promise<number>;
  /** pids of processes running in this host's sessions now. */
  sessionPids(): number[];
}

/** A set of test hosts sharing one client key. */
export interface TestSshHosts {
  readonly hosts: TestSshHost[];
  /** The client key pair authorised on every host; `path` is its private key file (for the OpenSSH client). */
  readonly clientKey: { privateKey: string; publicKey: string; path: string };
  /** Stops every host and removes their directories. */
  stopAll(): Promise<void>;
}

/** Everything started and not yet stopped, so that an exiting test process leaves nothing behind. */
const running = new Map<string, { pid: () => number | undefined }>();
let exitHookInstalled = false;

function killHostProcessesSync(marker: string, listener: number | undefined): void {
  const pids = new Set<number>(listener === undefined ? [] : [listener, ...descendantsOf(listener)]);
  for (const pid of processesWithEnv(SSH_HOST_MARKER_VAR, marker)) pids.add(pid);
  killPids(pids, 'SIGKILL');
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const [marker, host] of running) killHostProcessesSync(marker, host.pid());
  });
}

async function keygen(path: string, comment: string): Promise<string> {
  await rm(path, { force: true });
  await rm(`${path}.pub`, { force: true });
  await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  const [type, key] = (await readFile(`${path}.pub`, 'utf8')).trim().split(/\s+/);
  return `${type} ${key}`;
}

/** Starts `count` sshd hosts on 127.0.0.1, each on a free port with its own host key, home and log. */
export async function startSshHosts(count: number, options: SshHostsOptions = {}): Promise<TestSshHosts> {
  installExitHook();
  // sshd's privilege separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const temp = await makeTempDir('ssh-hosts');
  const clientKeyPath = join(temp.path, 'client_key');
  const publicKey = await keygen(clientKeyPath, 'dvx-test-client');
  const privateKey = await readFile(clientKeyPath, 'utf8');
  const hosts: TestSshHost[] = [];
  try {
    for (let i = 0; i < count; i += 1)
      hosts.push(await startHost(join(temp.path, `host-${i}`), `ssh-host-${i}`, privateKey, publicKey, options));
  } catch (error) {
    await Promise.all(hosts.map((host) => host.stop()));
    await temp.remove();
    throw error;
  }
  return {
    hosts,
    clientKey: { privateKey, publicKey, path: clientKeyPath },
    async stopAll() {
      await Promise.all(hosts.map((host) => host.stop()));
      await temp.remove();
    },
  };
}

async function startHost(
  dir: string,
  name: string,
  privateKey: string,
  publicKey: string,
  options: SshHostsOptions,
): Promise<TestSshHost> {
  const home = join(dir, 'home');
  await mkdir(home, { recursive: true });
  const port = await freePort();
  const marker = `${name}-${randomBytes(6).toString('hex')}`;
  const hostKeyPath = join(dir, 'ssh_host_ed25519_key');
  const configPath = join(dir, 'sshd_config');
  const logFile = join(dir, 'sshd.log');
  await writeFile(join(dir, 'authorized_keys'), `${publicKey}\n`, { mode: 0o600 });
  let hostKey = await keygen(hostKeyPath, name);
  let child: ChildProcess | undefined;

  // sshd keeps the first value it reads for a keyword: extra lines go first so that they override the defaults.
  const config = [
    ...(options.extraConfig ?? []),
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKeyPath}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'UsePAM no',
    'StrictModes no',
    'PermitRootLogin prohibit-password',
    `PasswordAuthentication ${options.passwordAuthentication ? 'yes' : 'no'}`,
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'AllowAgentForwarding yes',
    'PermitUserRC no',
    'PrintMotd no',
    'PrintLastLog no',
    'UseDNS no',
    'LogLevel VERBOSE',
    'MaxStartups 100:30:200',
    `SetEnv ${options.usersOwnHomes ? '' : `HOME=${home} `}${SSH_HOST_MARKER_VAR}=${marker}${options.sessionPath ? ` PATH=${options.sessionPath}` : ''}`,
    '',
  ].join('\n');

  const address: HostAddress = { name, host: '127.0.0.1', port, user: 'root' };
  const host: TestSshHost = {
    name,
    address,
    credentials: { privateKey },
    get hostKey() {
      return hostKey;
    },
    home,
    dir,
    logFile,
    spec: (overrides = {}) => ({
      id: name,
      address,
      credentials: { privateKey },
      pinnedHostKey: hostKey,
      ...overrides,
    }),
    specAs: (user, overrides = {}) =>
      host.spec({
        id: `${name}-${user.name}`,
        address: { ...address, user: user.name },
        credentials: { password: user.password },
        ...overrides,
      }),
    pid: () => child?.pid,
    async start() {
      if (child) return;
      await writeFile(configPath, config);
      const logStart = await readFile(logFile, 'utf8').then(
        (text) => text.length,
        () => 0,
      );
      let stderr = '';
      const proc = spawn('/usr/sbin/sshd', ['-D', '-f', configPath, '-E', logFile], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', [SSH_HOST_MARKER_VAR]: marker },
      });
      must(proc.stderr, 'proc.stderr').on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child = proc;
      running.set(marker, host);
      await waitFor(
        `sshd ${name} to listen on port ${port}`,
        async () => {
          if (proc.exitCode !== null)
            throw new Error(
              `sshd exited with ${proc.exitCode}: ${stderr}${(await readFile(logFile, 'utf8').catch(() => '')).slice(logStart)}`,
            );
          const log = await readFile(logFile, 'utf8').catch(() => '');
          return log.slice(logStart).includes(`Server listening on 127.0.0.1 port ${port}`);
        },
        15_000,
        20,
      );
    },
    async stop() {
      const proc = child;
      child = undefined;
      running.delete(marker);
      // The listener, every connection it forked, and whatever the sessions started (found by their marker).
      killHostProcessesSync(marker, proc?.pid);
      if (proc && proc.exitCode === null && proc.signalCode === null)
        await new Promise((resolve) => proc.once('exit', resolve));
      // A session may have forked while we killed: repeat until none is left.
      await waitFor(
        `the processes of ${name} to end`,
        () => {
          const left = host.sessionPids();
          killPids(left);
          return left.length === 0;
        },
        10_000,
        20,
      );
    },
    async restart() {
      await host.stop();
      await host.start();
    },
    async rotateHostKey() {
      hostKey = await keygen(hostKeyPath, name);
      return hostKey;
    },
    async acceptedLogins() {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      return log.split('\n').filter((line) => /^.*Accepted (publickey|password|keyboard-interactive)/.test(line))
        .length;
    },
    sessionPids: () => processesWithEnv(SSH_HOST_MARKER_VAR, marker),
  };
  await host.start();
  return host;
}
