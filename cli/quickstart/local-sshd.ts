import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DvxError } from '../../errors/index.js';

const run = promisify(execFile);

/** A local sshd the quickstart starts so that the tour has hosts to work on (all on 127.0.0.1). */
export interface LocalSshd {
  name: string;
  port: number;
  /** The directory standing for the host's disk. */
  home: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function alive(pidFile: string): Promise<boolean> {
  try {
    process.kill(Number((await readFile(pidFile, 'utf8')).trim()), 0);
    return true;
  } catch {
    return false;
  }
}

async function ensureKey(path: string, comment: string): Promise<void> {
  try {
    await readFile(path);
  } catch {
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  }
}

/**
 * Starts (or finds running) one sshd daemon per name under `dir`, each on its own loopback port with its own host key,
 * accepting the quickstart's client key for root. They keep running after the quickstart, like the engine.
 */
export async function startLocalSshds(
  dir: string,
  names: string[],
): Promise<{ hosts: LocalSshd[]; clientKeyPath: string }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const clientKeyPath = join(dir, 'client_key');
  await ensureKey(clientKeyPath, 'dvx-quickstart');
  const publicKey = await readFile(`${clientKeyPath}.pub`, 'utf8');
  const hosts: LocalSshd[] = [];
  for (const name of names) {
    const hostDir = join(dir, name);
    const home = join(hostDir, 'home');
    await mkdir(home, { recursive: true });
    const pidFile = join(hostDir, 'sshd.pid');
    const stateFile = join(hostDir, 'port');
    if (await alive(pidFile)) {
      hosts.push({ name, port: Number((await readFile(stateFile, 'utf8')).trim()), home });
      continue;
    }
    const port = await freePort();
    const hostKey = join(hostDir, 'ssh_host_ed25519_key');
    await ensureKey(hostKey, name);
    await writeFile(join(hostDir, 'authorized_keys'), publicKey, { mode: 0o600 });
    const config = [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${pidFile}`,
      `AuthorizedKeysFile ${join(hostDir, 'authorized_keys')}`,
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'AllowAgentForwarding yes',
      'PrintMotd no',
      'UseDNS no',
      `SetEnv HOME=${home}`,
      '',
    ].join('\n');
    await writeFile(join(hostDir, 'sshd_config'), config);
    await rm(pidFile, { force: true });
    try {
      await run('/usr/sbin/sshd', ['-f', join(hostDir, 'sshd_config'), '-E', join(hostDir, 'sshd.log')]);
    } catch (error) {
      throw new DvxError({
        code: 'DEPENDENCY_MISSING',
        message: `Could not start sshd for ${name}: ${(error as Error).message}`,
        action: 'Install openssh-server (apt-get install openssh-server) and run as root.',
      });
    }
    await writeFile(stateFile, `${port}\n`);
    hosts.push({ name, port, home });
  }
  return { hosts, clientKeyPath };
}

/** Stops the quickstart's sshd daemons. */
export async function stopLocalSshds(dir: string, names: string[]): Promise<void> {
  for (const name of names) {
    try {
      process.kill(Number((await readFile(join(dir, name, 'sshd.pid'), 'utf8')).trim()), 'SIGTERM');
    } catch {
      // not running
    }
  }
}
