import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDvxError } from '../../errors/index.js';
import { fetchHostKey, fingerprintOf } from '../../hosts/index.js';
import { freePort } from '../harness/free-port.js';
import { startSshHosts, type TestSshHosts } from '../harness/ssh-hosts.js';
import { must } from '../harness/must.js';

let set: TestSshHosts;
beforeAll(async () => {
  set = await startSshHosts(1);
});
afterAll(async () => {
  await set?.stopAll();
});

describe('fetchHostKey', () => {
  it('returns the key the host presents, with the fingerprint ssh-keygen prints', async () => {
    const host = must(set.hosts[0], 'host 0');
    const key = await fetchHostKey(host.address);
    expect(key.key).toBe(host.hostKey);
    const keygen = execFileSync('ssh-keygen', [
      '-l',
      '-E',
      'sha256',
      '-f',
      join(host.dir, 'ssh_host_ed25519_key.pub'),
    ]).toString();
    expect(keygen.split(' ')[1]).toBe(key.fingerprint);
    expect(fingerprintOf(Buffer.from(must(host.hostKey.split(' ')[1], 'the key in the host key'), 'base64'))).toBe(
      key.fingerprint,
    );
  });

  it('needs no credentials and leaves no login behind', async () => {
    const host = must(set.hosts[0], 'host 0');
    const before = await host.acceptedLogins();
    await fetchHostKey(host.address);
    expect(await host.acceptedLogins()).toBe(before);
  });

  it('fails with a retryable HOST_UNREACHABLE when nothing listens', async () => {
    const error = await fetchHostKey({ name: 'nowhere', host: '127.0.0.1', port: await freePort() }).catch(
      (caught: unknown) => caught,
    );
    expect(isDvxError(error) && error.code).toBe('HOST_UNREACHABLE');
    expect(isDvxError(error) && error.retryable).toBe(true);
  });
});
