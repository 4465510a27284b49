import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDvxError } from '../../errors/index.js';
import { runBash, SshConnectionPool } from '../../hosts/index.js';
import { BindMountTransport, BtrfsBackend } from '../../storage/index.js';
import { createTestBtrfsPool, type TestBtrfsPool } from '../harness/btrfs-pool.js';
import { CLAIMS_DIR, sweepDeadRuns } from '../harness/isolated-host-network.js';
import { startIsolatedHosts, type TestIsolatedHosts } from '../harness/isolated-hosts.js';
import { isRunning } from '../harness/ssh-processes.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { waitFor } from '../harness/wait-for.js';
import { must } from '../harness/must.js';

const netnsList = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
const linkExists = (name: string) => {
  try {
    execFileSync('ip', ['link', 'show', 'dev', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

describe('test harness: isolated hosts', () => {
  let set: TestIsolatedHosts;
  let pool: TestBtrfsPool;
  let dataDir: { path: string; remove(): Promise<void> };
  const connections = new SshConnectionPool();
  beforeAll(async () => {
    set = await startIsolatedHosts(2);
    pool = await createTestBtrfsPool({ sizeBytes: 256 * 1024 ** 2 });
    dataDir = await makeTempDir('engine-data');
  });
  afterAll(async () => {
    await connections.close();
    await set?.stopAll();
    await pool?.remove();
    await dataDir?.remove();
  });

  it("sees none of the engine's files, processes or users: a fresh host with its own root", async () => {
    const host = must(set.hosts[0], 'host 0');
    const connection = connections.get(host.spec());
    const backend = new BtrfsBackend({ root: pool.root });
    await backend.createDataset('vdb-1');
    const dataset = backend.datasetPath('vdb-1');
    expect(existsSync(dataset)).toBe(true);

    const seen = await runBash(
      connection,
      String.raw`
for path in "$POOL" "$DATASET" "$DATA_DIR" "$REPO"; do if [ -e "$path" ]; then echo "visible $path"; fi; done
echo "tmp: $(ls -A /tmp)"
echo "home: $(ls -A /home)"
echo "root: $(ls -A /root | tr '\n' ' ')"
echo "HOME=$HOME host=$(hostname)"
echo "people: $(awk -F: '$3 >= 1000 && $3 != 65534' /etc/passwd)"
echo "processes: $(ls -d /proc/[0-9]* | wc -l)"
echo "engine: $(cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\0' ' ' | grep -c vitest)"
echo "addresses: $(ip -4 -o addr show | awk '{print $2, $4}' | sort | tr '\n' ' ')"
`,
      {
        variables: { POOL: pool.root, DATASET: dataset, DATA_DIR: dataDir.path, REPO: process.cwd() },
        check: true,
      },
    );
    const lines = seen.stdout.split('\n');
    expect(lines.filter((line) => line.startsWith('visible'))).toEqual([]);
    expect(lines).toContain('tmp: ');
    expect(lines).toContain('home: ');
    expect(lines).toContain('root: .bashrc .profile .ssh ');
    expect(lines).toContain(`HOME=/root host=${host.name}`);
    expect(lines).toContain('people: ');
    expect(lines).toContain('engine: 0');
    // The host's init, its sshd, this session's sshd and the script's processes.
    expect(
      Number(
        must(
          lines.find((line) => line.startsWith('processes: ')),
          'processes',
        ).split(' ')[1],
      ),
    ).toBeLessThan(12);
    expect(lines).toContain(`addresses: eth0 ${host.address.host}/30 lo 127.0.0.1/8 `);
  });

  it('is reachable at its own address only, and reaches the engine machine only at the root side of its link', async () => {
    const [host, other] = [must(set.hosts[0], 'host 0'), must(set.hosts[1], 'host 1')];
    // The engine's loopback is not the host's: nothing there answers as this host.
    const viaLoopback = new SshConnectionPool();
    try {
      const error = await viaLoopback
        .get(host.spec({ id: 'loopback', address: { ...host.address, host: '127.0.0.1' } }))
        .exec('true')
        .then(
          () => undefined,
          (caught: unknown) => caught,
        );
      expect(isDvxError(error)).toBe(true);
    } finally {
      await viaLoopback.close();
    }
    expect((await runBash(connections.get(host.spec()), 'hostname', { check: true })).stdout.trim()).toBe(host.name);

    // A server of the engine on 127.0.0.1 and one on the link's engine side.
    const listen = (address: string) =>
      new Promise<Server>((resolve, reject) => {
        const server = createServer((socket) => socket.end('engine\n'));
        server.once('error', reject);
        server.listen(0, address, () => resolve(server));
      });
    const loopbackServer = await listen('127.0.0.1');
    const linkServer = await listen(host.engineAddress);
    const portOf = (server: Server) => {
      const address = server.address();
      return typeof address === 'object' && address ? String(address.port) : '';
    };
    try {
      const probe = (target: string, port: string) =>
        runBash(connections.get(host.spec()), 'timeout 3 bash -c "exec 3<>/dev/tcp/$TARGET/$PORT && head -n 1 <&3"', {
          variables: { TARGET: target, PORT: port },
        });
      expect((await probe(host.engineAddress, portOf(linkServer))).stdout).toBe('engine\n');
      expect((await probe('127.0.0.1', portOf(loopbackServer))).exitCode).not.toBe(0);
      // Its own sshd is not on its loopback either, and the other host is not routed to.
      expect((await probe('127.0.0.1', '22')).exitCode).not.toBe(0);
      expect((await probe(other.address.host, '22')).exitCode).not.toBe(0);
    } finally {
      loopbackServer.close();
      linkServer.close();
    }
  });

  it('makes the bind transport fail with its "does not exist on this host" error', async () => {
    const host = must(set.hosts[0], 'host 0');
    const backend = new BtrfsBackend({ root: pool.root });
    await backend.createDataset('vdb-2');
    const error = await new BindMountTransport({ runBash })
      .attach({
        connection: connections.get(host.spec()),
        sourcePath: backend.datasetPath('vdb-2'),
        mountPath: '/mnt/vdb',
      })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    if (!isDvxError(error)) throw new Error(`expected a DvxError, got ${String(error)}`);
    expect(error.code).toBe('MOUNT_FAILED');
    expect(error.message).toContain(`${backend.datasetPath('vdb-2')} does not exist on this host`);
    expect((await host.exec('findmnt -rn -o TARGET /mnt/vdb')).stdout).toBe('');
  });

  it('stops like a power cut: every process and mount gone, the disk kept for the next start', async () => {
    const host = must(set.hosts[1], 'host 1');
    const connection = connections.get(host.spec());
    await runBash(
      connection,
      'setsid sleep 300 </dev/null >/dev/null 2>&1 & mkdir -p /mnt/scratch && mount -t tmpfs scratch /mnt/scratch && echo kept > /root/kept.txt',
      { check: true },
    );
    const before = host.processes();
    expect(before.length).toBeGreaterThan(2);
    expect((await host.exec('findmnt -rn -o SOURCE /mnt/scratch')).stdout).toBe('scratch\n');

    await host.stop();
    expect(before.filter(isRunning)).toEqual([]);
    expect(host.processes()).toEqual([]);
    await host.start();
    const after = await runBash(
      connection,
      'cat /root/kept.txt; findmnt -rn /mnt/scratch || echo unmounted; pgrep -c sleep || true',
      {
        check: true,
      },
    );
    expect(after.stdout).toBe('kept\nunmounted\n0\n');
  });
});

describe('test harness: isolated hosts clean up', () => {
  it('stopAll removes every namespace, veth, process and directory it created', async () => {
    const set = await startIsolatedHosts(1);
    const host = must(set.hosts[0], 'host 0');
    const processes = host.processes();
    expect(netnsList()).toContain(host.link.netns);
    expect(linkExists(host.link.rootInterface)).toBe(true);
    await set.stopAll();
    expect(processes.filter(isRunning)).toEqual([]);
    expect(netnsList()).not.toContain(host.link.netns);
    expect(linkExists(host.link.rootInterface)).toBe(false);
    expect(existsSync(host.dir)).toBe(false);
  });

  it('a test process killed outright takes its hosts with it, and the next run removes its namespaces and files', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, '../fixtures/isolated-host-process.ts')],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const line = await waitFor(
      'the child to start its host',
      () => {
        if (child.exitCode !== null) throw new Error(`the child exited: ${stderr}`);
        return stdout.split('\n')[0]?.endsWith('}') ? stdout.split('\n')[0] : undefined;
      },
      60_000,
    );
    const started = JSON.parse(line) as {
      run: string;
      netns: string;
      rootInterface: string;
      dir: string;
      processes: number[];
    };
    expect(started.processes.length).toBeGreaterThan(1);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    await waitFor('the host processes to die with the test process', () =>
      started.processes.every((pid) => !isRunning(pid)),
    );
    // Only names are left: the next harness run finds them by the dead run's prefix.
    expect(netnsList()).toContain(started.netns);
    sweepDeadRuns();
    expect(netnsList()).not.toContain(started.netns);
    expect(linkExists(started.rootInterface)).toBe(false);
    expect(existsSync(started.dir)).toBe(false);
    const claims = readdirSync(CLAIMS_DIR).map((entry) => readFileSync(join(CLAIMS_DIR, entry), 'utf8'));
    expect(claims.filter((claim) => claim.startsWith(`${started.run} `))).toEqual([]);
  });
});
