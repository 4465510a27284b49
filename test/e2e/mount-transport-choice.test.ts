import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForRun } from '../../cli/wait-for-run.js';
import { runBash, SshConnectionPool } from '../../hosts/index.js';
import { startIsolatedHosts, type TestIsolatedHost, type TestIsolatedHosts } from '../harness/isolated-hosts.js';
import { freePort } from '../harness/free-port.js';
import { must } from '../harness/must.js';
import { startEngineFixture, type EngineFixture } from './engine-fixture.js';
import { dvx, setUpDsource, succeeded } from './fixture-setup.js';

interface EnvironmentView {
  id: string;
  status: string;
  mountTransport: { kind: string; reason: string } | null;
  lastError: { code: string; message: string; action?: string } | null;
}

let isolated: TestIsolatedHosts;
let engine: EngineFixture;
const connections = new SshConnectionPool();
beforeAll(async () => {
  isolated = await startIsolatedHosts(2);
  engine = await startEngineFixture({
    sftp: { listenAddresses: isolated.hosts.map((host) => host.engineAddress), port: await freePort() },
  });
});
afterAll(async () => {
  await connections.close();
  await engine?.stop();
  await isolated?.stopAll();
});

const isolatedHost = (index: number): TestIsolatedHost => must(isolated.hosts[index], `isolated host ${index}`);

async function addIsolated(name: string, host: TestIsolatedHost, extra: Record<string, unknown> = {}) {
  const answer = await engine.client.post<{ environment: { id: string }; run: { id: string } }>('/environments', {
    name,
    host: host.address.host,
    port: host.address.port,
    user: host.address.user,
    privateKey: must(host.credentials.privateKey, 'the host key'),
    ...extra,
  });
  await waitForRun(engine.client, answer.run.id, { stream: null });
  return (await engine.client.get<{ environment: EnvironmentView }>(`/environments/${answer.environment.id}`))
    .environment;
}

describe('dvx env add: the mount transport', () => {
  it('mounts with bind on a host that sees the engine storage and with sshfs on one that does not, saying why', async () => {
    const { environments } = await setUpDsource(engine, 'choice');
    const loopback = (await engine.client.get<{ environment: EnvironmentView }>(`/environments/${environments[2]}`))
      .environment;
    expect(loopback.mountTransport?.kind).toBe('bind');
    expect(loopback.mountTransport?.reason).toMatch(/^the host sees the engine's storage \(.+\): a marker file/);

    const remote = await addIsolated('iso-target', isolatedHost(0));
    expect(remote.status).toBe('ACTIVE');
    expect(remote.mountTransport?.kind).toBe('sshfs');
    expect(remote.mountTransport?.reason).toMatch(/^the host does not see the engine's storage/);
    const shown = await dvx(engine, 'env', 'show', 'iso-target');
    expect(shown.stdout).toContain(`mounts: sshfs (${remote.mountTransport?.reason})`);
    const listed = await dvx(engine, 'env', 'list');
    expect(listed.stdout).toMatch(/iso-target .* sshfs/);

    // A VDB on it: provisioned through sshfs, its files on the host, its writes in the engine's storage.
    const mountPath = '/srv/dvx/choice-vdb';
    const provision = await engine.client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
      name: 'choice-vdb',
      source: 'choice',
      environment: remote.id,
      parameters: { mountLocation: mountPath },
    });
    await succeeded(engine, provision);
    const host = connections.get(isolatedHost(0).spec());
    const seen = await runBash(host, 'cat "$P/a.txt"; findmnt -rn -o FSTYPE --mountpoint "$P"; echo b > "$P/b.txt"', {
      variables: { P: mountPath },
      check: true,
    });
    expect(seen.stdout).toBe('a\nfuse.sshfs\n');
    const vdb = await engine.client.get<{ vdb: { currentTimeflowId: string } }>('/vdbs/choice-vdb');
    expect(await readFile(join(engine.storage.datasetPath(vdb.vdb.currentTimeflowId), 'b.txt'), 'utf8')).toBe('b\n');

    await succeeded(engine, await engine.client.delete<{ run: { id: string } }>('/vdbs/choice-vdb'));
    expect(
      (await runBash(host, 'findmnt -rn --mountpoint "$P" || echo unmounted', { variables: { P: mountPath } })).stdout,
    ).toBe('unmounted\n');
    expect(await engine.runtime.sftp.exportIds()).toEqual([]);
  });

  it('takes --transport over the probe', async () => {
    const loopback = engine.tourHost(0);
    const answer = await dvx(
      engine,
      'env',
      'add',
      'forced-sshfs',
      `${loopback.user}@${loopback.host}:${loopback.port}`,
      '--key',
      engine.ssh.clientKey.path,
      '--transport',
      'sshfs',
      '--wait',
    );
    expect(answer.code, answer.stderr).toBe(0);
    const environment = (await engine.client.get<{ environment: EnvironmentView }>('/environments/forced-sshfs'))
      .environment;
    expect(environment.mountTransport?.kind).toBe('sshfs');
    expect(environment.mountTransport?.reason).toMatch(/^asked for with --transport sshfs; the host sees/);

    const wrong = await dvx(
      engine,
      'env',
      'add',
      'x',
      'root@127.0.0.1',
      '--key',
      engine.ssh.clientKey.path,
      '--transport',
      'nfs',
    );
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('--transport nfs is not a mount transport');
  });

  it('fails to add a host without sshfs that needs it, naming the package', async () => {
    const host = isolatedHost(1);
    await host.exec('mount --bind /dev/null /usr/bin/sshfs');
    try {
      const environment = await addIsolated('iso-no-sshfs', host);
      expect(environment.status).toBe('FAILED');
      expect(environment.lastError?.code).toBe('HOST_CAPABILITY_MISSING');
      expect(environment.lastError?.message).toContain('has no sshfs');
      expect(environment.lastError?.action).toContain('apt-get install sshfs');
    } finally {
      await host.exec('umount /usr/bin/sshfs');
    }
  });
});
