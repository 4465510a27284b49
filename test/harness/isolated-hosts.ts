import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { cp, lstat, mkdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { HostAddress, HostCredentials, HostSpec } from '../../hosts/index.js';
import { createHostLink, RUN_ID, type HostLink } from './isolated-host-network.js';
import { killPids } from './ssh-processes.js';
import { waitFor } from './wait-for.js';

const execFileAsync = promisify(execFile);

/** Options of {@link startIsolatedHosts}; they apply to every host started. */
export interface IsolatedHostsOptions {
  /** Extra sshd_config lines; they take precedence over the harness's own. @defaultValue none */
  extraConfig?: string[];
  /**
   * The hosts reach each other (routed through the root namespace), as machines of one network do: a copy from one
   * host to another (runSync host to host, rsync over ssh) needs it. @defaultValue false: each reaches only the engine
   */
  routed?: boolean;
}

/**
 * A host that shares nothing with the engine but the kernel and the programs in /usr: an sshd in its own mount, PID,
 * UTS, IPC and network namespaces, reachable only at its own address on a veth pair to the root namespace. Its root is
 * its own disk ({@link rootfs}: a copy of /etc with the machine's users of uid 1000 and up removed, an empty /home,
 * root's home with only the skeleton and the test key, empty /var) with /usr mounted read-only from the machine and
 * fresh /dev, /proc, /sys, /run and /tmp; nothing of the engine's data dir, pool, temp dirs or processes is visible.
 * A stop kills every process of the host and drops its mounts, as a power cut does; the disk stays for the next start.
 */
export interface TestIsolatedHost {
  readonly name: string;
  /** Where the engine reaches it: its address on the link, port 22, as root. */
  readonly address: HostAddress;
  /** The root namespace's address on the host's link: where the host reaches the engine machine. */
  readonly engineAddress: string;
  readonly link: HostLink;
  /** The client private key, authorised for root on this host. */
  readonly credentials: HostCredentials;
  /** The host's public key (`ssh-ed25519 AAAA...`). */
  readonly hostKey: string;
  /** Root's home on the host. */
  readonly home: string;
  /** The host's directory on the engine machine: its disk ({@link rootfs}) and nothing else. */
  readonly dir: string;
  /** The host's root filesystem as the engine machine sees it (what survives a stop). */
  readonly rootfs: string;
  /** sshd's log (LogLevel VERBOSE), engine-side path. */
  readonly logFile: string;
  /** A spec for the pool, pinned to the host key. */
  spec(overrides?: Partial<HostSpec>): HostSpec;
  /** pid (in the root namespace) of the host's init, while it runs. */
  pid(): number | undefined;
  start(): Promise<void>;
  /** Kills every process of the host at once, as a power cut; its mounts go with its mount namespace. */
  stop(): Promise<void>;
  restart(): Promise<void>;
  /**
   * Runs a bash script inside the host's namespaces (nsenter, not SSH), as root from /, with `variables` in its
   * environment: for checks and faults that must not depend on the host's sshd.
   */
  exec(
    script: string,
    variables?: Record<string, string>,
  ): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** How many logins sshd accepted so far (from its log). */
  acceptedLogins(): Promise<number>;
  /** pids (in the root namespace) of every process of the host now, its init included. */
  processes(): number[];
}

/** A set of isolated hosts sharing one client key. */
export interface TestIsolatedHosts {
  readonly hosts: TestIsolatedHost[];
  /** The client key pair authorised on every host; `path` is its private key file (for the OpenSSH client). */
  readonly clientKey: { privateKey: string; publicKey: string; path: string };
  /** Stops every host, deletes its namespaces and veth, and removes its directories. */
  stopAll(): Promise<void>;
}

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// Runs in the host's new namespaces (mount namespace private, so nothing propagates back), before sshd: mounts its
// root on itself (pivot_root wants a mount point), /usr read-only from the machine, a fresh /dev with the usual
// nodes and FUSE, /proc of its own PID namespace (/proc/sys read-only: kernel settings are the machine's), /sys,
// tmpfs /run and /tmp; then pivots into it and drops the machine's tree, so that no path leads back.
const BOOT = String.raw`
set -eu
rootfs=$1 name=$2
mount --bind "$rootfs" "$rootfs"
cd "$rootfs"
mount --bind /usr usr
mount -o remount,bind,ro,nodev usr
mount -t tmpfs -o mode=0755,nosuid dvx-dev dev
mknod -m 666 dev/null c 1 3; mknod -m 666 dev/zero c 1 5; mknod -m 666 dev/full c 1 7
mknod -m 666 dev/random c 1 8; mknod -m 666 dev/urandom c 1 9; mknod -m 666 dev/tty c 5 0
mknod -m 666 dev/fuse c 10 229
mkdir dev/pts dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts dev/pts
ln -s pts/ptmx dev/ptmx; ln -s /proc/self/fd dev/fd
ln -s /proc/self/fd/0 dev/stdin; ln -s /proc/self/fd/1 dev/stdout; ln -s /proc/self/fd/2 dev/stderr
mount -t tmpfs -o mode=1777,nosuid,nodev dvx-shm dev/shm
mount -t proc -o nosuid,nodev,noexec proc proc
mount --bind proc/sys proc/sys
mount -o remount,bind,ro proc/sys
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs sys
mount -t tmpfs -o mode=0755,nosuid,nodev dvx-run run
mkdir -p run/sshd run/lock
mount -t tmpfs -o mode=1777,nosuid,nodev dvx-tmp tmp
mkdir -p .oldroot
pivot_root . .oldroot
cd /
umount -l /.oldroot
rmdir /.oldroot
hostname "$name"
/usr/sbin/sshd -D -E /var/log/sshd.log &
# PID 1: reaps orphans (bash reaps every child on SIGCHLD) and keeps the namespace alive.
while :; do wait -n || sleep 1; done
`;

/** Hosts running and directories not yet removed, so that an exiting test process leaves nothing behind. */
const launchers = new Set<number>();
const directories = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    // A launcher's death kills the host's init (unshare --kill-child), which takes every process of its PID namespace
    // with it; the mount namespace goes with its last process. Network namespaces: isolated-host-network's own hook.
    killPids(launchers, 'SIGKILL');
    for (const dir of directories) rmSync(dir, { recursive: true, force: true });
  });
}

async function keygen(path: string, comment: string): Promise<string> {
  await rm(path, { force: true });
  await rm(`${path}.pub`, { force: true });
  await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  const [type, key] = (await readFile(`${path}.pub`, 'utf8')).trim().split(/\s+/);
  return `${type} ${key}`;
}

/** Drops the accounts of people (uid/gid 1000 up, but nobody/nogroup) from a passwd-style file: a fresh host has none. */
async function dropUserAccounts(path: string, idField: number): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return;
  }
  const keep = text.split('\n').filter((line) => {
    const id = Number(line.split(':')[idField]);
    return !(Number.isInteger(id) && id >= 1000 && id !== 65534);
  });
  await writeFile(path, keep.join('\n'));
}

/** Names of the accounts left in passwd/group after {@link dropUserAccounts}, to clean shadow and gshadow with. */
async function accountNames(path: string): Promise<Set<string>> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return new Set(text.split('\n').map((line) => line.split(':')[0] ?? ''));
}

async function keepAccounts(path: string, names: Set<string>): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return;
  }
  await writeFile(
    path,
    text
      .split('\n')
      .filter((line) => line === '' || names.has(line.split(':')[0] ?? ''))
      .join('\n'),
  );
}

/** Builds a host's disk: what a fresh Debian install of this machine's packages would have outside /usr. */
async function makeRootfs(
  rootfs: string,
  name: string,
  hostAddress: string,
  clientPublicKey: string,
  sshdConfig: string,
) {
  for (const dir of ['usr', 'dev', 'proc', 'sys', 'run', 'tmp', 'home', 'mnt', 'srv', 'opt', 'media', 'boot'])
    await mkdir(join(rootfs, dir), { recursive: true });
  for (const dir of ['log', 'lib', 'cache', 'spool', 'mail', 'backups', 'local', 'opt'])
    await mkdir(join(rootfs, 'var', dir), { recursive: true });
  await mkdir(join(rootfs, 'var', 'tmp'), { mode: 0o1777 });
  await execFileAsync('chmod', ['1777', join(rootfs, 'var', 'tmp'), join(rootfs, 'tmp')]);
  await symlink('/run', join(rootfs, 'var', 'run'));
  await symlink('/run/lock', join(rootfs, 'var', 'lock'));
  // Debian's merged /usr: /bin, /lib... are links into /usr.
  for (const entry of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
    const stats = await lstat(join('/', entry)).catch(() => undefined);
    if (stats?.isSymbolicLink()) await symlink(await readlink(join('/', entry)), join(rootfs, entry));
  }
  await cp('/etc', join(rootfs, 'etc'), { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  const etc = (file: string) => join(rootfs, 'etc', file);
  await dropUserAccounts(etc('passwd'), 2);
  await dropUserAccounts(etc('group'), 2);
  await keepAccounts(etc('shadow'), await accountNames(etc('passwd')));
  await keepAccounts(etc('gshadow'), await accountNames(etc('group')));
  await writeFile(etc('hostname'), `${name}\n`);
  await writeFile(
    etc('hosts'),
    `127.0.0.1\tlocalhost\n${hostAddress}\t${name}\n::1\tlocalhost ip6-localhost ip6-loopback\n`,
  );
  for (const entry of readdirSync(etc('ssh')).filter((file) => file.startsWith('ssh_host_')))
    await rm(join(etc('ssh'), entry), { force: true });
  await writeFile(etc('ssh/sshd_config'), sshdConfig);
  await rm(etc('ssh/sshd_config.d'), { recursive: true, force: true });
  const home = join(rootfs, 'root');
  await mkdir(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  await execFileAsync('chmod', ['700', home]);
  for (const file of ['.bashrc', '.profile'])
    await cp(join('/etc/skel', file), join(home, file)).catch(() => undefined);
  await writeFile(join(home, '.ssh', 'authorized_keys'), `${clientPublicKey}\n`, { mode: 0o600 });
}

/** Reads the pid of the first child of `pid` (the init unshare forked), if it has one yet. */
function firstChild(pid: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean);
    return children.length > 0 ? Number(children[0]) : undefined;
  } catch {
    return undefined;
  }
}

function pidNamespace(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** Starts `count` isolated hosts (needs root), each with its own namespaces, address, disk and host key. */
export async function startIsolatedHosts(
  count: number,
  options: IsolatedHostsOptions = {},
): Promise<TestIsolatedHosts> {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), `dvx-isohosts-${RUN_ID}-`));
  directories.add(dir);
  const clientKeyPath = join(dir, 'client_key');
  const hosts: TestIsolatedHost[] = [];
  const removeAll = async () => {
    await Promise.all(hosts.map((host) => host.stop()));
    await Promise.all(hosts.map((host) => host.link.remove()));
    directories.delete(dir);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const publicKey = await keygen(clientKeyPath, 'dvx-test-client');
    const privateKey = await readFile(clientKeyPath, 'utf8');
    for (let i = 0; i < count; i += 1)
      hosts.push(await startHost(join(dir, `host-${i}`), `iso-host-${i}`, { privateKey, publicKey }, options));
    return { hosts, clientKey: { privateKey, publicKey, path: clientKeyPath }, stopAll: removeAll };
  } catch (error) {
    await removeAll();
    throw error;
  }
}

async function startHost(
  dir: string,
  name: string,
  client: { privateKey: string; publicKey: string },
  options: IsolatedHostsOptions,
): Promise<TestIsolatedHost> {
  const link = await createHostLink(name, { routed: options.routed ?? false });
  const rootfs = join(dir, 'rootfs');
  const logFile = join(rootfs, 'var', 'log', 'sshd.log');
  // sshd keeps the first value it reads for a keyword: extra lines go first so that they override the defaults.
  const sshdConfig = [
    ...(options.extraConfig ?? []),
    `ListenAddress ${link.hostAddress}:22`,
    'HostKey /etc/ssh/ssh_host_ed25519_key',
    'UsePAM no',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'PrintMotd no',
    'PrintLastLog no',
    'UseDNS no',
    'LogLevel VERBOSE',
    'MaxStartups 100:30:200',
    'AcceptEnv LANG LC_*',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    '',
  ].join('\n');
  let hostKey: string;
  try {
    await mkdir(rootfs, { recursive: true });
    await makeRootfs(rootfs, name, link.hostAddress, client.publicKey, sshdConfig);
    hostKey = await keygen(join(rootfs, 'etc', 'ssh', 'ssh_host_ed25519_key'), name);
  } catch (error) {
    await link.remove();
    throw error;
  }

  let launcher: ChildProcess | undefined;
  let init: number | undefined;
  let namespace: string | undefined;
  const address: HostAddress = { name, host: link.hostAddress, port: 22, user: 'root' };
  const processesOf = (ns: string | undefined) => {
    if (ns === undefined) return [];
    const found: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (/^\d+$/.test(entry) && pidNamespace(Number(entry)) === ns) found.push(Number(entry));
    }
    return found;
  };

  const host: TestIsolatedHost = {
    name,
    address,
    engineAddress: link.rootAddress,
    link,
    credentials: { privateKey: client.privateKey },
    hostKey,
    home: '/root',
    dir,
    rootfs,
    logFile,
    spec: (overrides = {}) => ({
      id: name,
      address,
      credentials: { privateKey: client.privateKey },
      pinnedHostKey: hostKey,
      ...overrides,
    }),
    pid: () => init,
    async start() {
      if (launcher) return;
      const logStart = await readFile(logFile, 'utf8').then(
        (text) => text.length,
        () => 0,
      );
      let stderr = '';
      // setpriv: the launcher dies with this process (however it ends), and with it (--kill-child) the host.
      const proc = spawn(
        'setpriv',
        [
          '--pdeathsig',
          'SIGKILL',
          'nsenter',
          `--net=/run/netns/${link.netns}`,
          'unshare',
          '--mount',
          '--pid',
          '--fork',
          '--uts',
          '--ipc',
          '--kill-child',
          '--propagation',
          'private',
          '--',
          'bash',
          '-c',
          BOOT,
          'boot',
          rootfs,
          name,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH, LANG: 'C.UTF-8' } },
      );
      proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      launcher = proc;
      if (proc.pid !== undefined) launchers.add(proc.pid);
      try {
        const child = await waitFor(`the init of ${name}`, () => {
          if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`the launcher exited: ${stderr}`);
          return proc.pid === undefined ? undefined : firstChild(proc.pid);
        });
        init = child;
        namespace = await waitFor(`the PID namespace of ${name}`, () => {
          const ns = pidNamespace(child);
          return ns !== undefined && ns !== pidNamespace(process.pid) ? ns : undefined;
        });
        await waitFor(
          `sshd ${name} to listen on ${link.hostAddress}:22`,
          async () => {
            if (proc.exitCode !== null || proc.signalCode !== null)
              throw new Error(
                `the host exited: ${stderr}${(await readFile(logFile, 'utf8').catch(() => '')).slice(logStart)}`,
              );
            const log = await readFile(logFile, 'utf8').catch(() => '');
            return log.slice(logStart).includes(`Server listening on ${link.hostAddress} port 22`);
          },
          15_000,
          20,
        );
      } catch (error) {
        await host.stop();
        throw error;
      }
    },
    async stop() {
      const proc = launcher;
      const ns = namespace;
      launcher = undefined;
      init = undefined;
      namespace = undefined;
      if (proc?.pid !== undefined) launchers.delete(proc.pid);
      if (proc?.pid !== undefined && proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((resolve) => proc.once('exit', resolve));
        killPids([proc.pid], 'SIGKILL');
        await exited;
      }
      await waitFor(`the processes of ${name} to end`, () => processesOf(ns).length === 0, 10_000, 20);
    },
    async restart() {
      await host.stop();
      await host.start();
    },
    async exec(script, variables = {}) {
      const target = init;
      if (target === undefined) throw new Error(`${name} is not running`);
      return new Promise((resolve, reject) => {
        const child = spawn(
          'nsenter',
          [
            '--target',
            String(target),
            '--mount',
            '--uts',
            '--ipc',
            '--net',
            '--pid',
            '--root',
            '--wd',
            '--',
            'bash',
            '-c',
            script,
          ],
          { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH, LANG: 'C.UTF-8', HOME: '/root', ...variables } },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.once('error', reject);
        child.once('close', (code) => resolve({ exitCode: code ?? -1, stdout, stderr }));
      });
    },
    async acceptedLogins() {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      return log.split('\n').filter((line) => /Accepted (publickey|password|keyboard-interactive)/.test(line)).length;
    },
    processes: () => processesOf(namespace),
  };
  try {
    await host.start();
  } catch (error) {
    await link.remove();
    throw error;
  }
  return host;
}
