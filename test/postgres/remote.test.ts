// plugins/postgres with its staging standby on an isolated staging host and a VDB on an isolated target host: hosts
// that share nothing with the engine, their storage mounted over sshfs, owned by their postgres user as the plugin
// asks; a client on the target host runs pgbench against the VDB. Fails without PostgreSQL installed.
import { chmod, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngineFixture, type EngineFixture } from '../e2e/engine-fixture.js';
import { succeeded } from '../e2e/fixture-setup.js';
import { freePort } from '../harness/free-port.js';
import { startIsolatedHosts, type TestIsolatedHost, type TestIsolatedHosts } from '../harness/isolated-hosts.js';
import { must } from '../harness/must.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { asPostgres, requirePostgres, sql, startSourceCluster, type SourceCluster } from './pg-cluster.js';

const bin = requirePostgres();

let isolated: TestIsolatedHosts;
let engine: EngineFixture;
let work: { path: string; remove(): Promise<void> };
let source: SourceCluster;
const environments: { source: string; staging: string; target: string } = { source: '', staging: '', target: '' };
let dsourceId = '';
const staging = () => must(isolated.hosts[0], 'the staging host');
const target = () => must(isolated.hosts[1], 'the target host');
const STAGING_MOUNT = '/srv/dvx/pg-staging';
const VDB_MOUNT = '/srv/dvx/pg-vdb';

/** Runs a script on an isolated host (in its namespaces) and returns its stdout; fails with its stderr. */
async function on(host: TestIsolatedHost, script: string, variables: Record<string, string> = {}): Promise<string> {
  const result = await host.exec(script, { BIN: bin, ...variables });
  if (result.exitCode !== 0) throw new Error(`on ${host.name}: exit ${result.exitCode}: ${result.stderr}`);
  return result.stdout;
}

const mountsOn = async (host: TestIsolatedHost) =>
  (await host.exec('findmnt -rn -o TARGET,FSTYPE | grep -F /srv/dvx/ || true')).stdout;

async function addEnvironment(name: string, spec: { host: string; port: number; user: string; privateKey: string }) {
  const answer = await engine.client.post<{ environment: { id: string }; run: { id: string } }>('/environments', {
    name,
    ...spec,
  });
  await succeeded(engine, answer);
  return answer.environment.id;
}

beforeAll(async () => {
  isolated = await startIsolatedHosts(2);
  // What the postgresql package's install leaves outside /usr (the postgres user's home and socket directory), and
  // mount paths under a directory postgres may traverse, as the plugin asks.
  for (const host of isolated.hosts)
    await on(
      host,
      'install -d -o postgres -g postgres -m 0755 /var/lib/postgresql /run/postgresql; install -d -m 0755 /srv/dvx',
    );
  engine = await startEngineFixture({
    hosts: 1,
    sftp: { listenAddresses: isolated.hosts.map((host) => host.engineAddress), port: await freePort() },
  });
  work = await makeTempDir('pg-remote');
  await chmod(work.path, 0o755);
  // The source cluster runs on the engine machine (a loopback source host) and takes replication connections from
  // the staging host's network.
  source = await startSourceCluster({
    bin,
    dir: join(work.path, 'source'),
    port: await freePort(),
    replicationUser: 'dvx_repl',
    password: 'remote-s3cret',
    listenAddresses: [staging().engineAddress],
    replicationFrom: [`${staging().address.host}/32`],
  });
  await asPostgres(join(bin, 'pgbench'), ['-i', '-s', '1', '-q', '-h', '127.0.0.1', '-p', String(source.port)]);
  const artifact = JSON.parse(await readFile(await engine.build('plugins/postgres'), 'utf8')) as unknown;
  await engine.client.post('/plugins', artifact);
  environments.source = await addEnvironment('pg-source-host', engine.tourHost(0));
  for (const [role, host] of [
    ['staging', staging()],
    ['target', target()],
  ] as const)
    environments[role] = await addEnvironment(`pg-${role}-iso`, {
      host: host.address.host,
      port: host.address.port,
      user: host.address.user,
      privateKey: must(host.credentials.privateKey, 'the host key'),
    });
}, 300_000);

afterAll(async () => {
  await source?.stop();
  await engine?.stop();
  await isolated?.stopAll();
  await work?.remove();
}, 180_000);

describe('plugins/postgres on isolated staging and target hosts (sshfs)', () => {
  it('links a standby on the staging host, provisions a VDB on the target host that pgbench runs against, and deletes both cleanly', async () => {
    const { sourceConfigs } = await engine.client.get<{
      sourceConfigs: { id: string; parameters: { dataDir: string } }[];
    }>(`/sourceconfigs?environment=${environments.source}`);
    const sourceConfig = must(
      sourceConfigs.find((config) => config.parameters.dataDir === source.dataDir),
      'the source config of the cluster',
    );
    const link = await engine.client.post<{ dsource: { id: string }; run: { id: string } }>('/dsources', {
      name: 'pg-remote',
      sourceConfig: sourceConfig.id,
      stagingEnvironment: environments.staging,
      parameters: {
        mountPath: STAGING_MOUNT,
        sourceHost: staging().engineAddress,
        sourcePort: source.port,
        replicationUser: source.replicationUser,
        password: source.password,
        stagingPort: await freePort(),
      },
    });
    await succeeded(engine, link);
    dsourceId = link.dsource.id;
    // The standby runs on the staging host, as postgres, on its sshfs mount whose data dir postgres owns.
    expect(await mountsOn(staging())).toBe(`${STAGING_MOUNT} fuse.sshfs\n`);
    expect(await on(staging(), 'stat -c %U:%a "$M/data"', { M: STAGING_MOUNT })).toBe('postgres:700\n');
    expect(await on(staging(), 'pgrep -u postgres -c -x postgres || true')).not.toBe('0\n');

    const vdbPort = await freePort();
    const provision = await engine.client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
      name: 'pg-remote-vdb',
      source: dsourceId,
      environment: environments.target,
      parameters: { mountPath: VDB_MOUNT, port: vdbPort },
    });
    await succeeded(engine, provision);
    expect(await mountsOn(target())).toBe(`${VDB_MOUNT} fuse.sshfs\n`);
    expect(await on(target(), 'stat -c %U:%a "$M/data"', { M: VDB_MOUNT })).toBe('postgres:700\n');

    // A client on the target host: the VDB holds the source's rows, and pgbench runs against it.
    const psql = (query: string) =>
      on(target(), 'runuser -u postgres -- "$BIN/psql" -X -A -t -h 127.0.0.1 -p "$P" -U postgres -c "$Q" postgres', {
        P: String(vdbPort),
        Q: query,
      });
    expect(await psql('select count(*) from pgbench_accounts')).toBe('100000\n');
    const bench = await on(
      target(),
      'runuser -u postgres -- "$BIN/pgbench" -n -c 2 -j 2 -T 3 -h 127.0.0.1 -p "$P" -U postgres postgres',
      { P: String(vdbPort) },
    );
    expect(Number(/tps = ([\d.]+)/.exec(bench)?.[1])).toBeGreaterThan(0);
    expect(bench).toMatch(/number of failed transactions: 0/);
    // pgbench wrote to the VDB, not to the source.
    expect(Number(await psql('select count(*) from pgbench_history'))).toBeGreaterThan(0);
    expect(await sql(bin, source.port, 'select count(*) from pgbench_history')).toBe('0');

    await succeeded(engine, await engine.client.delete<{ run: { id: string } }>(`/vdbs/${provision.vdb.id}`));
    expect(await mountsOn(target())).toBe('');
    expect(await on(target(), 'pgrep -u postgres -c -x postgres || true')).toBe('0\n');
    await succeeded(engine, await engine.client.delete<{ run: { id: string } }>(`/dsources/${dsourceId}`));
    expect(await mountsOn(staging())).toBe('');
    expect(await on(staging(), 'pgrep -u postgres -c -x postgres || true')).toBe('0\n');
    expect(await engine.runtime.sftp.exportIds()).toEqual([]);
  }, 300_000);
});
