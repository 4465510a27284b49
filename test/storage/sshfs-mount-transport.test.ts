import { execFileSync, spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDvxError, type DvxError } from '../../errors/index.js';
import { runBash, SshConnectionPool, type HostConnection } from '../../hosts/index.js';
import { BtrfsBackend, SshfsMountTransport, type MountTransport } from '../../storage/index.js';
import { createTestBtrfsPool, type TestBtrfsPool } from '../harness/btrfs-pool.js';
import { startIsolatedHosts, type TestIsolatedHost, type TestIsolatedHosts } from '../harness/isolated-hosts.js';
import { startTestSftpServer, type TestSftpServer } from '../harness/sftp-server.js';
import { must } from '../harness/must.js';
import { describeMountTransportConformance } from './mount-transport.conformance.js';

let set: TestIsolatedHosts;
let pool: TestBtrfsPool;
let sftp: TestSftpServer;
let backend: BtrfsBackend;
let counter = 0;
beforeAll(async () => {
  set = await startIsolatedHosts(2);
  pool = await createTestBtrfsPool({ sizeBytes: 512 * 1024 ** 2 });
  sftp = await startTestSftpServer(set.hosts.map((host) => host.engineAddress));
  backend = new BtrfsBackend({ root: pool.root });
});
afterAll(async () => {
  // Hosts first: their sshfs mounts end with them, and with those the SFTP sessions on the engine side.
  await set?.stopAll();
  await sftp?.remove();
  await pool?.remove();
});

async function newDataset(): Promise<string> {
  const id = `ds-${(counter += 1)}`;
  await backend.createDataset(id);
  return backend.datasetPath(id);
}

async function rejection(promise: Promise<unknown>): Promise<DvxError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isDvxError(error)) throw new Error(`expected a DvxError, got ${String(error)}`);
  return error;
}

const hostAt = (index: number) => must(set.hosts[index], `host ${index}`);

describeMountTransportConformance('sshfs to a host that shares nothing with the engine', async () => {
  const connections = new SshConnectionPool();
  return {
    transport: new SshfsMountTransport({ runBash, server: sftp.server, busyRetries: 2, busyRetryIntervalMs: 200 }),
    connection: connections.get(hostAt(0).spec()),
    makeSource: newDataset,
    mountPath: () => `/mnt/quote's $(x) ${(counter += 1)}/vdb`,
    cleanup: () => connections.close(),
  };
});

describe('SshfsMountTransport', () => {
  const connections = new SshConnectionPool();
  let transport: MountTransport;
  const connectionTo = (host: TestIsolatedHost): HostConnection => connections.get(host.spec());
  const onHost = (host: TestIsolatedHost, script: string, variables: Record<string, string> = {}) =>
    runBash(connectionTo(host), script, { variables });
  /** The key a mount got, on its host. */
  const keyOf = (host: TestIsolatedHost, sourcePath: string, mountPath: string) =>
    `/var/lib/dvx/sshfs/${SshfsMountTransport.exportId(host.name, sourcePath, mountPath)}/key`;
  /** Runs the OpenSSH client on `host` against the engine's SFTP server with `key`, pinning its host key. */
  const sshArgs = (key: string) =>
    `-i ${key} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR`;
  beforeAll(() => {
    transport = new SshfsMountTransport({ runBash, server: sftp.server, busyRetries: 1, busyRetryIntervalMs: 100 });
  });
  afterAll(() => connections.close());

  it("confines a mount's key to its dataset: no other dataset, no engine file, no forwarding, no other host", async () => {
    const [host, other] = [hostAt(0), hostAt(1)];
    const mine = await newDataset();
    const theirs = await newDataset();
    await writeFile(join(theirs, 'secret.txt'), 'not for host 0\n');
    await transport.attach({ connection: connectionTo(host), sourcePath: mine, mountPath: '/mnt/mine' });
    await transport.attach({ connection: connectionTo(other), sourcePath: theirs, mountPath: '/mnt/theirs' });
    const key = keyOf(host, mine, '/mnt/mine');
    expect((await onHost(host, 'stat -c %a:%U "$K"', { K: key })).stdout).toBe('600:root\n');

    const engine = `-P ${sftp.server.port} root@${host.engineAddress}`;
    const sftpSession = await onHost(
      host,
      `printf '%s\\n' 'ls -1 /' "ls -1 $THEIRS" "get $THEIRS/secret.txt /tmp/stolen" "ls -1 $POOL" 'get /etc/shadow /tmp/shadow' | sftp -b - ${sshArgs('"$K"')} ${engine}; ls /tmp`,
      { K: key, THEIRS: theirs, POOL: pool.root },
    );
    // The session's whole tree: the dataset at /data and what sftp-server runs on, nothing of the engine's storage.
    expect(sftpSession.stdout).toMatch(/^\/bin\s+\/data\s+\/dev\s+\/etc\s+\/lib\s+\/lib64\s+\/sbin\s+\/usr\s*$/m);
    expect(sftpSession.stdout).not.toContain('secret');
    expect(sftpSession.stdout).not.toContain('stolen');
    expect(sftpSession.stderr).toMatch(/not found|No such file/);

    // Whatever command the client asks for, the key runs only the confined SFTP server.
    const command = await onHost(
      host,
      `ssh ${sshArgs('"$K"')} -p ${sftp.server.port} root@${host.engineAddress} "cat $THEIRS/secret.txt" </dev/null`,
      {
        K: key,
        THEIRS: theirs,
      },
    );
    expect(command.stdout).not.toContain('not for host 0');

    // No forwarding to the engine machine's services (one listens on the link).
    const server: Server = await new Promise((resolve) => {
      const listening = createServer((socket) => socket.end('engine service\n'));
      listening.listen(0, host.engineAddress, () => resolve(listening));
    });
    try {
      const port = (server.address() as { port: number }).port;
      const forward = await onHost(
        host,
        `timeout 10 ssh ${sshArgs('"$K"')} -p ${sftp.server.port} -W ${host.engineAddress}:${port} root@${host.engineAddress} </dev/null`,
        { K: key },
      );
      expect(forward.stdout).not.toContain('engine service');
    } finally {
      server.close();
    }

    // The key works from its host only: copied to another host it is refused.
    const privateKey = await host.exec('cat "$K"', { K: key });
    await other.exec('umask 077; cat > /root/copied-key <<EOF\n$KEY\nEOF', { KEY: privateKey.stdout.trim() });
    const fromOther = await onHost(
      other,
      `echo 'ls /data' | sftp -b - ${sshArgs('/root/copied-key')} -P ${sftp.server.port} root@${other.engineAddress}`,
    );
    expect(fromOther.exitCode).not.toBe(0);
    expect(fromOther.stdout).not.toContain('/data');

    // Detaching revokes it: the key (kept aside) no longer opens anything.
    await host.exec('cp "$K" /root/kept-key', { K: key });
    await transport.detach({ connection: connectionTo(host), mountPath: '/mnt/mine' });
    expect((await host.exec('test -e "$K"', { K: key })).exitCode).not.toBe(0);
    const afterDetach = await onHost(host, `echo 'ls /data' | sftp -b - ${sshArgs('/root/kept-key')} ${engine}`);
    expect(afterDetach.exitCode).not.toBe(0);
    await transport.detach({ connection: connectionTo(other), mountPath: '/mnt/theirs' });
  });

  it('shows files with the owner the plugin asked for, so that a database that checks its data dir owner starts', async () => {
    const host = hostAt(0);
    const dataset = await newDataset();
    await onHost(host, 'groupadd -g 4322 dbgroup && useradd -u 4321 -g 4322 -M dbuser');
    await transport.attach({
      connection: connectionTo(host),
      sourcePath: dataset,
      mountPath: '/srv/db',
      ownership: { uid: 4321, gid: 4322 },
    });
    // What PostgreSQL checks before it starts: the data dir is owned by its user and 0700, and it can write there.
    const asUser = await onHost(
      host,
      `chmod 700 /srv/db && su dbuser -s /bin/bash -c 'stat -c "%U:%G %a" /srv/db && mkdir /srv/db/base && echo row > /srv/db/base/1 && cat /srv/db/base/1'`,
    );
    expect(asUser.stderr).toBe('');
    expect(asUser.stdout).toBe('dbuser:dbgroup 700\nrow\n');
    const written = await stat(join(dataset, 'base', '1'));
    expect([written.uid, written.gid]).toEqual([4321, 4322]);
    // Another user of the host is kept out by the same permissions.
    const intruder = await onHost(host, `su nobody -s /bin/bash -c 'ls /srv/db'`);
    expect(intruder.exitCode).not.toBe(0);
    expect(intruder.stderr).toMatch(/Permission denied/);
    await transport.detach({ connection: connectionTo(host), mountPath: '/srv/db' });
  });

  it("without an owner asked for, lets root on the host act as root on the files (chown, chmod, others' files)", async () => {
    const host = hostAt(1);
    const dataset = await newDataset();
    await writeFile(join(dataset, 'theirs.txt'), 'theirs\n');
    execFileSync('chown', ['1500:1500', join(dataset, 'theirs.txt')]);
    execFileSync('chmod', ['600', join(dataset, 'theirs.txt')]);
    await transport.attach({ connection: connectionTo(host), sourcePath: dataset, mountPath: '/mnt/as-root' });
    const io = await onHost(
      host,
      'cd /mnt/as-root && cat theirs.txt && echo more >> theirs.txt && touch copy && chown 2500:2600 copy && chmod 640 copy && stat -c "%u:%g %a" copy',
    );
    expect(io.stderr).toBe('');
    expect(io.stdout).toBe('theirs\n2500:2600 640\n');
    const copy = await stat(join(dataset, 'copy'));
    expect([copy.uid, copy.gid, copy.mode & 0o777]).toEqual([2500, 2600, 0o640]);
    expect(await readFile(join(dataset, 'theirs.txt'), 'utf8')).toBe('theirs\nmore\n');
    await transport.detach({ connection: connectionTo(host), mountPath: '/mnt/as-root' });
  });

  it('keeps working without the engine process that mounted it, and a restarted engine finds it attached', async () => {
    const host = hostAt(1);
    const dataset = await newDataset();
    await writeFile(join(dataset, 'before.txt'), 'before\n');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, '../fixtures/sshfs-attach-process.ts')],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stdin.end(
      JSON.stringify({ spec: host.spec(), server: sftp.options, sourcePath: dataset, mountPath: '/mnt/outlives' }),
    );
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(output).toContain('attached');
    expect(code).toBe(0);

    // That engine is gone; the host reads and writes through the mount.
    const io = await onHost(host, 'cat /mnt/outlives/before.txt && echo after > /mnt/outlives/after.txt');
    expect(io.stdout).toBe('before\n');
    expect(await readFile(join(dataset, 'after.txt'), 'utf8')).toBe('after\n');
    // A new engine (this process, another transport) sees it attached, and attaching again changes nothing.
    expect(await transport.isAttached({ connection: connectionTo(host), mountPath: '/mnt/outlives' })).toBe(true);
    const sessions = await host.exec('pgrep -c -x sshfs');
    await transport.attach({ connection: connectionTo(host), sourcePath: dataset, mountPath: '/mnt/outlives' });
    expect((await host.exec('pgrep -c -x sshfs')).stdout).toBe(sessions.stdout);
    await transport.detach({ connection: connectionTo(host), mountPath: '/mnt/outlives' });
  });

  it('mounts again after the host reboots or its sshfs dies: is-attached says no until then', async () => {
    const host = hostAt(1);
    const dataset = await newDataset();
    await writeFile(join(dataset, 'data.txt'), 'data\n');
    const request = { connection: connectionTo(host), sourcePath: dataset, mountPath: '/mnt/again' };
    await transport.attach(request);

    await host.exec('pkill -KILL -x sshfs');
    expect(await transport.isAttached(request)).toBe(false);
    await transport.attach(request);
    expect((await onHost(host, 'cat /mnt/again/data.txt')).stdout).toBe('data\n');

    await host.restart();
    expect(await transport.isAttached(request)).toBe(false);
    await transport.attach(request);
    expect(await transport.isAttached(request)).toBe(true);
    expect(
      (await onHost(host, 'cat /mnt/again/data.txt; findmnt -rn -o TARGET,FSTYPE --mountpoint /mnt/again')).stdout,
    ).toBe('data\n/mnt/again fuse.sshfs\n');
    await transport.detach(request);
  });

  it('names the package to install when the host has no sshfs, and mounts nothing', async () => {
    const host = hostAt(0);
    const dataset = await newDataset();
    await host.exec('mount --bind /dev/null /usr/bin/sshfs');
    try {
      const error = await rejection(
        transport.attach({ connection: connectionTo(host), sourcePath: dataset, mountPath: '/mnt/no-sshfs' }),
      );
      expect(error.code).toBe('HOST_CAPABILITY_MISSING');
      expect(error.message).toContain('sshfs');
      expect(error.action).toContain('apt-get install sshfs');
      expect(
        (await sftp.server.exportIds()).includes(SshfsMountTransport.exportId(host.name, dataset, '/mnt/no-sshfs')),
      ).toBe(false);
    } finally {
      await host.exec('umount /usr/bin/sshfs');
    }
  });
});
