// A staged plugin's runSync fills the staging mount; the mount's root stays as the mount specification left it. Real
// sshd hosts (a source and a staging host), the real bind mount transport and rsync.
import { execFileSync } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBash, SshConnectionPool } from '../../hosts/index.js';
import { createPlatformServices, type RemoteConnection } from '../../operations/index.js';
import { BindMountTransport, mountsUnder } from '../../storage/index.js';
import { must } from '../harness/must.js';
import { startSshHosts, type TestSshHost, type TestSshHosts } from '../harness/ssh-hosts.js';
import { makeTempDir } from '../harness/temp-dir.js';

const OWNER = { uid: 4321, gid: 4322 };

let set: TestSshHosts;
let pool: SshConnectionPool;
let temp: { path: string; remove(): Promise<void> };
const hosts = new Map<string, TestSshHost>();

function connectionOf(reference: string): RemoteConnection {
  const host = must(hosts.get(reference), `host ${reference}`);
  return {
    environment: { name: host.name, reference, host: { hostname: host.address.host, scratchPath: '/tmp' } },
    user: { name: host.address.user, reference },
  };
}

beforeAll(async () => {
  set = await startSshHosts(2);
  hosts.set('source', must(set.hosts[0], 'host 0'));
  hosts.set('staging', must(set.hosts[1], 'host 1'));
  pool = new SshConnectionPool();
  temp = await makeTempDir('staging-sync-root');
});
afterAll(async () => {
  await pool?.close();
  await set?.stopAll();
  if (temp) {
    for (const mount of (await mountsUnder(temp.path)).reverse()) execFileSync('umount', ['-l', mount]);
    await temp.remove();
  }
});

const modeOf = async (path: string) => ((await stat(path)).mode & 0o7777).toString(8);
const ownerOf = async (path: string) => {
  const info = await stat(path);
  return `${info.uid}:${info.gid}`;
};

describe("a staged plugin's runSync into its staging mount", () => {
  it("keeps the mount root's owner and mode (a root-owned 0700 source dir does not leak onto it); contents keep theirs", async () => {
    // The source: a backup directory owned by root, mode 0700, holding files of other owners.
    const sourceDir = join(temp.path, 'backup');
    await runBash(
      pool.get(must(hosts.get('source'), 'source').spec({ id: 'source' })),
      String.raw`
      set -e
      mkdir -p "$D/db/inner"
      echo data > "$D/db/ibdata1"; echo log > "$D/ib_logfile0"; echo cfg > "$D/db/inner/cfg"
      chown 0:0 "$D"; chmod 0700 "$D"
      chown 27:28 "$D/db" "$D/db/ibdata1"; chmod 0750 "$D/db"; chmod 0640 "$D/db/ibdata1"
      chown 27:28 "$D/ib_logfile0"; chmod 0600 "$D/ib_logfile0"
      chown 1:1 "$D/db/inner" "$D/db/inner/cfg"; chmod 0711 "$D/db/inner"
      `,
      { variables: { D: sourceDir }, check: true },
    );

    // The staging mount, attached as the engine does it: owned as the ownership specification says. The plugin then
    // makes it 0750 (for example in startStaging).
    const storage = join(temp.path, 'storage', 'dataset');
    await mkdir(storage, { recursive: true });
    const mountPath = join(temp.path, 'mnt', 'staging');
    const staging = pool.get(must(hosts.get('staging'), 'staging').spec({ id: 'staging' }));
    await new BindMountTransport({ runBash }).attach({
      connection: staging,
      sourcePath: storage,
      mountPath,
      ownership: OWNER,
    });
    await runBash(staging, 'chmod 0750 "$M"', { variables: { M: mountPath }, check: true });
    expect(await ownerOf(mountPath)).toBe(`${OWNER.uid}:${OWNER.gid}`);

    const services = createPlatformServices({
      connect: async (reference) => pool.get(must(hosts.get(reference), reference).spec({ id: reference })),
      syncDestination: { environmentReference: 'staging', path: mountPath },
      logger: pino({ level: 'silent' }),
    });
    const request = { remoteConnection: connectionOf('source'), sourceDirectory: sourceDir };
    const first = await services.runSync(request);
    expect(first.filesTransferred).toBe(3);

    expect(await ownerOf(mountPath)).toBe(`${OWNER.uid}:${OWNER.gid}`);
    expect(await modeOf(mountPath)).toBe('750');
    expect(await ownerOf(join(mountPath, 'db'))).toBe('27:28');
    expect(await modeOf(join(mountPath, 'db'))).toBe('750');
    expect(await ownerOf(join(mountPath, 'db', 'ibdata1'))).toBe('27:28');
    expect(await modeOf(join(mountPath, 'db', 'ibdata1'))).toBe('640');
    expect(await modeOf(join(mountPath, 'ib_logfile0'))).toBe('600');
    expect(await ownerOf(join(mountPath, 'db', 'inner'))).toBe('1:1');
    expect(await modeOf(join(mountPath, 'db', 'inner'))).toBe('711');

    // The next sync deletes what the source no longer has, still without touching the root.
    await runBash(
      pool.get(must(hosts.get('source'), 'source').spec({ id: 'source' })),
      'rm "$D/ib_logfile0"; echo more > "$D/db/ibdata1"',
      { variables: { D: sourceDir }, check: true },
    );
    const second = await services.runSync(request);
    expect(second.filesDeleted).toBe(1);
    expect(second.filesTransferred).toBe(1);
    expect(await ownerOf(mountPath)).toBe(`${OWNER.uid}:${OWNER.gid}`);
    expect(await modeOf(mountPath)).toBe('750');
    expect((await runBash(staging, 'ls -A "$M"', { variables: { M: mountPath }, check: true })).stdout.trim()).toBe(
      'db',
    );
  });
});
