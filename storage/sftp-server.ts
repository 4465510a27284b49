import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DvxError, StorageError } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { runCommand } from './run-command.js';

/** Options of {@link SftpServer}. */
export interface SftpServerOptions {
  /**
   * The server's directory on the engine machine: host key, sshd config, the exports and their authorised keys, log.
   * dvx makes it root-only (0700). Usually `<data dir>/sftp`.
   */
  dir: string;
  /** TCP port of the dedicated sshd. @defaultValue 7422 */
  port?: number;
  /** Addresses the sshd listens on: those where hosts reach the engine machine. @defaultValue ['0.0.0.0'] */
  listenAddresses?: string[];
  /** The OpenSSH server program. @defaultValue '/usr/sbin/sshd' */
  sshd?: string;
  /**
   * OpenSSH's sftp-server. @defaultValue the first that exists of /usr/lib/openssh/sftp-server (Debian),
   * /usr/libexec/openssh/sftp-server (Red Hat), /usr/lib/ssh/sftp-server (Arch)
   */
  sftpServer?: string;
  /** @defaultValue silentLogger */
  logger?: Logger;
}

export const SFTP_SERVER_DEFAULTS = { port: 7422, listenAddresses: ['0.0.0.0'], sshd: '/usr/sbin/sshd' };

const SFTP_SERVER_CANDIDATES = [
  '/usr/lib/openssh/sftp-server',
  '/usr/libexec/openssh/sftp-server',
  '/usr/lib/ssh/sftp-server',
];

/** One directory of engine storage served to one host mount. */
export interface SftpExport {
  /** Lowercase hex, 8 to 64 digits: names the export, its key and the host mount (`dvx-sftp:<id>`). */
  id: string;
  /** The engine-local directory served (a VDB's dataset). */
  sourcePath: string;
  /** Owner the SFTP server runs as, so that files written through it belong to them (0 when none was asked for). */
  uid: number;
  gid: number;
  /** Serve it read-only (the server refuses every write, and the directory is mounted read-only under it). */
  readOnly: boolean;
  /** The only address the key is accepted from (`from=` in authorized_keys). @defaultValue any address */
  from?: string;
  /** Says in authorized_keys and the log what the key is for. */
  comment: string;
}

const EXPORT_ID = /^[0-9a-f]{8,64}$/;

// The forced command of every export's key. It ignores what the client asked to run: in a mount namespace of its own
// it builds a root of a small tmpfs with /usr read-only (for sftp-server and its libraries), a passwd naming only the
// export's owner (sftp-server looks itself up) and the exported directory at /data, pivots into it and drops the rest
// of the machine's tree; then sftp-server runs as the export's owner without capabilities or setuid (as root with
// only the capabilities over files when no owner was asked for). Nothing else of
// the engine machine (other datasets, the data dir, /proc) exists in that namespace, so neither a path nor a symlink
// reaches it. The marker variable lets dvx find the sessions of an export to end them when it is revoked.
const CONFINE = String.raw`#!/bin/bash
set -eu
id=$1
[[ $id =~ ^[0-9a-f]{8,64}$ ]] || { echo "dvx-sftp: bad export id" >&2; exit 1; }
# Every process spawned here is paid at each mount: builtins where they do (sshd runs this by its absolute path).
dir=${'$'}{0%/*}
if [ "$#" -lt 2 ]; then exec unshare --mount --propagation private -- "$0" "$id" inner; fi
[ -f "$dir/exports/$id" ] || { echo "dvx-sftp: export $id was revoked" >&2; exit 1; }
{ IFS= read -r src; read -r uid; read -r gid; read -r ro; } < "$dir/exports/$id"
sftp_server=$(<"$dir/sftp-server.path")
root=$dir/root
mount -t tmpfs -o mode=0755,size=1m,nosuid,nodev dvx-sftp "$root"
cd "$root"
# The skeleton (directories, /dev/null's mount point, merged-/usr links such as /lib -> usr/lib) is made at start.
cp -a "$dir/skeleton/." .
mount --bind /usr usr
mount -o remount,bind,ro,nosuid,nodev usr
mount --bind /dev/null dev/null
printf 'dvx-sftp:x:%s:%s::/data:/bin/false\n' "$uid" "$gid" > etc/passwd
printf 'dvx-sftp:x:%s:\n' "$gid" > etc/group
mount --bind "$src" data
if [ "$ro" = 1 ]; then mount -o remount,bind,ro,nosuid,nodev data; fi
# umount reads /proc/self/mountinfo: a /proc for the moment of the pivot, gone before sftp-server starts.
mount -t proc proc proc
pivot_root . .oldroot
cd /
umount -l /.oldroot
umount /proc
rmdir /.oldroot /proc
export DVX_SFTP_EXPORT=$id
read_only=
if [ "$ro" = 1 ]; then read_only=-R; fi
# Served as root (no owner asked for), it keeps only what root needs on files, as root on the host would have.
caps=-all
if [ "$uid" = 0 ]; then caps=-all,+chown,+dac_override,+dac_read_search,+fowner,+fsetid; fi
exec setpriv --reuid "$uid" --regid "$gid" --clear-groups --no-new-privs --inh-caps=-all --bounding-set="$caps" -- \
  "$sftp_server" $read_only -d /data
`;

/** Refuses a path that cannot go into sshd_config and authorized_keys as it is. */
function checkPlainPath(path: string, what: string): void {
  if (!path.startsWith('/') || /["\\\n\r\t' ]/.test(path)) {
    throw new DvxError({
      code: 'CONFIG_INVALID',
      message: `The ${what} ${JSON.stringify(path)} must be absolute, without spaces, quotes or backslashes.`,
      action: `Choose another ${what}.`,
      details: { path },
    });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** pids of processes whose environment holds `name=value` exactly. */
function processesWithEnv(name: string, value: string): number[] {
  const needle = Buffer.from(`\0${name}=${value}\0`);
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = Buffer.concat([Buffer.from('\0'), readFileSync(`/proc/${entry}/environ`), Buffer.from('\0')]);
      if (environ.includes(needle)) found.push(Number(entry));
    } catch {
      // Gone, or a kernel thread.
    }
  }
  return found;
}

/**
 * A dedicated OpenSSH server on the engine machine that serves each export (one dataset for one host mount) to the one
 * key dvx made for it, and nothing else: the sshfs transport's engine side. It is a daemon of its own, not a child of
 * the engine, so mounts keep working while the engine is stopped or restarted; {@link start} starts it when it is not
 * running and is a no-op otherwise. Root logs in only with a key bound to a forced command (`restrict`, no forwarding,
 * no pty), which confines the session to its export (see the confine script above).
 */
export class SftpServer {
  readonly #dir: string;
  readonly #port: number;
  readonly #listen: string[];
  readonly #sshd: string;
  readonly #sftpServer: string | undefined;
  readonly #logger: Logger;
  #queue: Promise<unknown> = Promise.resolve();
  /** The config this object last started or checked the server with: while it runs with it, start() has nothing to do. */
  #startedConfig: string | undefined;

  constructor(options: SftpServerOptions) {
    checkPlainPath(options.dir, 'SFTP server directory');
    this.#dir = options.dir;
    this.#port = options.port ?? SFTP_SERVER_DEFAULTS.port;
    this.#listen = options.listenAddresses ?? SFTP_SERVER_DEFAULTS.listenAddresses;
    this.#sshd = options.sshd ?? SFTP_SERVER_DEFAULTS.sshd;
    this.#sftpServer = options.sftpServer;
    this.#logger = options.logger ?? silentLogger;
  }

  get port(): number {
    return this.#port;
  }

  get dir(): string {
    return this.#dir;
  }

  get #configPath(): string {
    return join(this.#dir, 'sshd_config');
  }

  get #pidFile(): string {
    return join(this.#dir, 'sshd.pid');
  }

  /** The server's public host key (`ssh-ed25519 AAAA...`), which hosts pin. */
  async hostKey(): Promise<string> {
    const [type, key] = (await readFile(join(this.#dir, 'ssh_host_ed25519_key.pub'), 'utf8')).trim().split(/\s+/);
    return `${type} ${key}`;
  }

  /** pid of the running sshd, if it runs (its pid file names a live sshd with this server's config). */
  pid(): number | undefined {
    let pid: number;
    try {
      pid = Number(readFileSync(this.#pidFile, 'utf8').trim());
    } catch {
      return undefined;
    }
    if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
    try {
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return command.includes(this.#configPath) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** Writes the server's files and starts its sshd unless it runs; a running one rereads a changed config (SIGHUP). */
  start(): Promise<void> {
    return this.#serialized(async () => {
      // Called at every attach: a server this object started and that still runs costs nothing more (no sshd -t).
      const hostKey = join(this.#dir, 'ssh_host_ed25519_key');
      if (this.#startedConfig === this.#config(hostKey) && this.pid() !== undefined && existsSync(this.#configPath))
        return;
      const sftpServer = this.#sftpServer ?? SFTP_SERVER_CANDIDATES.find((path) => existsSync(path));
      if (sftpServer === undefined || !existsSync(this.#sshd)) {
        throw new DvxError({
          code: 'DEPENDENCY_MISSING',
          message: `The sshfs transport needs OpenSSH's server on the engine machine (${this.#sshd}, sftp-server).`,
          action: 'Install it (Debian: apt-get install openssh-server), then retry.',
        });
      }
      await mkdir(this.#dir, { recursive: true, mode: 0o700 });
      await chmod(this.#dir, 0o700);
      await mkdir(join(this.#dir, 'exports'), { recursive: true, mode: 0o700 });
      await mkdir(join(this.#dir, 'root'), { recursive: true, mode: 0o755 });
      await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
      if (!existsSync(hostKey)) {
        await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'dvx-sftp', '-f', hostKey], {
          doing: 'make the SFTP server host key',
        });
      }
      await this.#writeSkeleton();
      await writeFile(join(this.#dir, 'sftp-server.path'), `${sftpServer}\n`);
      await writeFile(join(this.#dir, 'confine'), CONFINE, { mode: 0o755 });
      await chmod(join(this.#dir, 'confine'), 0o755);
      if (!existsSync(join(this.#dir, 'authorized_keys'))) await this.#writeAuthorizedKeys();
      const config = this.#config(hostKey);
      const previous = await readFile(this.#configPath, 'utf8').catch(() => '');
      await writeFile(this.#configPath, config, { mode: 0o600 });
      await runCommand(this.#sshd, ['-t', '-f', this.#configPath], { doing: 'check the SFTP server config' });
      const running = this.pid();
      if (running !== undefined) {
        if (previous !== config) {
          process.kill(running, 'SIGHUP');
          this.#logger.info({ pid: running }, 'sftp server: config changed, reloading');
        }
        this.#startedConfig = config;
        return;
      }
      await rm(this.#pidFile, { force: true });
      await this.#launch();
      this.#startedConfig = config;
    });
  }

  /** Stops the sshd (sessions it already forked, that is mounts in use, end with it only if `sessions` is set). */
  async stop(options: { sessions?: boolean } = {}): Promise<void> {
    const pid = this.pid();
    if (pid !== undefined) {
      process.kill(pid, 'SIGTERM');
      await waitUntil(() => !isAlive(pid), 10_000);
    }
    if (options.sessions) {
      for (const id of await this.exportIds()) await this.#endSessions(id);
    }
  }

  /**
   * Authorises a fresh key pair for `exp` (replacing any earlier key of the same id) and returns its private key, which
   * is kept nowhere on the engine: the host that mounts gets it.
   */
  authorize(exp: SftpExport): Promise<{ privateKey: string }> {
    if (!EXPORT_ID.test(exp.id)) throw new Error(`bad export id ${exp.id}`);
    if (/[\n\r]/.test(exp.sourcePath)) {
      throw new StorageError({
        code: 'MOUNT_FAILED',
        message: `The path ${JSON.stringify(exp.sourcePath)} holds a line break: the SFTP server cannot export it.`,
        details: { sourcePath: exp.sourcePath },
      });
    }
    if (exp.from !== undefined && !/^[0-9a-fA-F.:]+$/.test(exp.from)) throw new Error(`bad address ${exp.from}`);
    return this.#serialized(async () => {
      const temp = await mkdtemp(join(this.#dir, 'key-'));
      try {
        const keyPath = join(temp, 'key');
        await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `dvx-sftp-${exp.id}`, '-f', keyPath], {
          doing: 'make an SFTP export key',
        });
        const privateKey = await readFile(keyPath, 'utf8');
        const [type, key] = (await readFile(`${keyPath}.pub`, 'utf8')).trim().split(/\s+/);
        const options = [
          'restrict',
          ...(exp.from === undefined ? [] : [`from="${exp.from}"`]),
          `command="${join(this.#dir, 'confine')} ${exp.id}"`,
        ].join(',');
        const comment = exp.comment.replace(/[^\w.:@/+-]+/g, '_');
        const exportPath = join(this.#dir, 'exports', exp.id);
        await writeFile(
          `${exportPath}.tmp`,
          `${exp.sourcePath}\n${exp.uid}\n${exp.gid}\n${exp.readOnly ? 1 : 0}\n${options} ${type} ${key} ${comment}\n`,
          { mode: 0o600 },
        );
        await rename(`${exportPath}.tmp`, exportPath);
        await this.#writeAuthorizedKeys();
        this.#logger.info({ export: exp.id, sourcePath: exp.sourcePath, readOnly: exp.readOnly }, 'sftp export added');
        return { privateKey };
      } finally {
        await rm(temp, { recursive: true, force: true });
      }
    });
  }

  /** Removes an export's key and ends its sessions (a no-op when it does not exist). */
  revoke(id: string): Promise<void> {
    if (!EXPORT_ID.test(id)) return Promise.resolve();
    return this.#serialized(async () => {
      const exportPath = join(this.#dir, 'exports', id);
      if (!existsSync(exportPath)) return;
      await rm(exportPath, { force: true });
      await this.#writeAuthorizedKeys();
      await this.#endSessions(id);
      this.#logger.info({ export: id }, 'sftp export revoked');
    });
  }

  /** Ids of the exports authorised now. */
  async exportIds(): Promise<string[]> {
    const entries = await readdir(join(this.#dir, 'exports')).catch(() => []);
    return entries.filter((entry) => EXPORT_ID.test(entry));
  }

  /** The source path of an export, or undefined when it does not exist. */
  async exportSource(id: string): Promise<string | undefined> {
    if (!EXPORT_ID.test(id)) return undefined;
    const text = await readFile(join(this.#dir, 'exports', id), 'utf8').catch(() => undefined);
    return text?.split('\n')[0];
  }

  async #endSessions(id: string): Promise<void> {
    const pids = processesWithEnv('DVX_SFTP_EXPORT', id);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // Gone.
      }
    }
    await waitUntil(() => pids.every((pid) => !isAlive(pid)), 5_000);
  }

  async #writeAuthorizedKeys(): Promise<void> {
    const lines: string[] = [];
    for (const id of await this.exportIds()) {
      const text = await readFile(join(this.#dir, 'exports', id), 'utf8').catch(() => '');
      const line = text.split('\n')[4];
      if (line) lines.push(line);
    }
    const path = join(this.#dir, 'authorized_keys');
    await writeFile(`${path}.tmp`, lines.map((line) => `${line}\n`).join(''), { mode: 0o600 });
    await rename(`${path}.tmp`, path);
  }

  /** The root every session starts from (copied into its tmpfs by confine): what it would otherwise spawn to make. */
  async #writeSkeleton(): Promise<void> {
    const skeleton = join(this.#dir, 'skeleton');
    if (existsSync(skeleton)) return;
    const building = `${skeleton}.tmp`;
    await rm(building, { recursive: true, force: true });
    for (const sub of ['usr', 'data', 'dev', 'etc', 'proc', '.oldroot'])
      await mkdir(join(building, sub), { recursive: true, mode: 0o755 });
    await chmod(building, 0o755);
    await writeFile(join(building, 'dev', 'null'), '');
    for (const link of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
      const target = await readlink(join('/', link)).catch(() => undefined);
      if (target !== undefined) await symlink(target, join(building, link));
    }
    await rename(building, skeleton);
  }

  #config(hostKey: string): string {
    return [
      `Port ${this.#port}`,
      ...this.#listen.map((address) => `ListenAddress ${address.includes(':') ? `[${address}]` : address}`),
      `HostKey ${hostKey}`,
      `PidFile ${this.#pidFile}`,
      `AuthorizedKeysFile ${join(this.#dir, 'authorized_keys')}`,
      'AuthorizedPrincipalsFile none',
      'AuthorizedKeysCommand none',
      // Only root (who may build the confinement), only with a key, only with a forced command.
      'AllowUsers root',
      'PermitRootLogin forced-commands-only',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'HostbasedAuthentication no',
      'UsePAM no',
      // dvx keeps the directory 0700 and its files 0600 itself; the default check rejects a data dir under /tmp.
      'StrictModes no',
      'AllowTcpForwarding no',
      'AllowAgentForwarding no',
      'AllowStreamLocalForwarding no',
      'X11Forwarding no',
      'PermitTunnel no',
      'PermitTTY no',
      'PermitUserRC no',
      'PermitUserEnvironment no',
      'GatewayPorts no',
      'DisableForwarding yes',
      'PrintMotd no',
      'UseDNS no',
      'ClientAliveInterval 15',
      'ClientAliveCountMax 4',
      'MaxStartups 100:30:300',
      'LogLevel VERBOSE',
      // A subsystem must exist for sshd to accept the client's request; the key's forced command replaces it.
      'Subsystem sftp /bin/false',
      '',
    ].join('\n');
  }

  async #launch(): Promise<void> {
    // sshd forks into the background and writes its pid file: a daemon of its own, outliving this process.
    const child = spawn(this.#sshd, ['-f', this.#configPath, '-E', join(this.#dir, 'sshd.log')], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    if (code !== 0 || !(await waitUntil(() => this.pid() !== undefined, 10_000))) {
      const log = await readFile(join(this.#dir, 'sshd.log'), 'utf8').catch(() => '');
      throw new StorageError({
        code: 'MOUNT_FAILED',
        message: `The SFTP server (sshd on port ${this.#port}) did not start: ${stderr.trim() || log.trim().split('\n').slice(-3).join(' ')}`,
        action: `Check that port ${this.#port} is free on ${this.#listen.join(', ')}, or configure another.`,
        output: `${stderr}${log}`,
      });
    }
    this.#logger.info({ pid: this.pid(), port: this.#port, listen: this.#listen }, 'sftp server started');
  }

  #serialized<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
