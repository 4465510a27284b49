import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeHost, SshConnectionPool, type HostFacts } from '../../hosts/index.js';
import type { HostFacts as RecordedHostFacts } from '../../model/environment.js';
import { startSshHosts, type TestSshHosts } from '../harness/ssh-hosts.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { stringMatching } from '../harness/matchers.js';
import { must } from '../harness/must.js';

// model/ declares the facts an environment record keeps without importing hosts/: both must stay the same shape, or
// this line fails to compile (npx tsc --noEmit).
const FACTS_AGREE: [HostFacts, RecordedHostFacts] extends [RecordedHostFacts, HostFacts] ? true : never = true;

let set: TestSshHosts;
let bare: TestSshHosts;
let emptyBin: { path: string; remove(): Promise<void> };
let pool: SshConnectionPool;
beforeAll(async () => {
  set = await startSshHosts(1);
  emptyBin = await makeTempDir('empty-bin');
  await mkdir(join(emptyBin.path, 'bin'));
  bare = await startSshHosts(1, { sessionPath: join(emptyBin.path, 'bin') });
  pool = new SshConnectionPool();
});
afterAll(async () => {
  await pool?.close();
  await set?.stopAll();
  await bare?.stopAll();
  await emptyBin?.remove();
});

describe('probeHost', () => {
  it('finds facts of the shape an environment record keeps (checked at compile time)', () => {
    expect(FACTS_AGREE).toBe(true);
  });

  it('reports what the host is and can do', async () => {
    const host = must(set.hosts[0], 'host 0');
    const facts = await probeHost(pool.get(host.spec()));
    const prettyName = must(
      /^PRETTY_NAME="?(.*?)"?$/m.exec(readFileSync('/etc/os-release', 'utf8')),
      'PRETTY_NAME in /etc/os-release',
    )[1];
    expect(facts).toEqual({
      os: prettyName,
      kernel: release(),
      user: 'root',
      uid: 0,
      home: host.home,
      bashVersion: stringMatching(/^\d+\.\d+/),
      rsyncVersion: stringMatching(/^\d+\.\d+\.\d+/),
      expectAvailable: true,
      canMount: true,
      scratchPath: join(host.home, '.dvx/scratch'),
    });
  });

  it('reports missing rsync and expect', async () => {
    const facts = await probeHost(pool.get(must(bare.hosts[0], 'host 0').spec()));
    expect(facts.rsyncVersion).toBeNull();
    expect(facts.expectAvailable).toBe(false);
  });
});
