import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDvxError, type DvxError } from '../../errors/index.js';
import { runBash, runExpect, SshConnectionPool } from '../../hosts/index.js';
import { startSshHosts, type TestSshHosts } from '../harness/ssh-hosts.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { must } from '../harness/must.js';

async function rejection(promise: Promise<unknown>): Promise<DvxError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isDvxError(error)) throw new Error(`expected a DvxError, got ${String(error)}`);
  return error;
}

let set: TestSshHosts;
let bare: TestSshHosts;
let emptyBin: { path: string; remove(): Promise<void> };
let pool: SshConnectionPool;
beforeAll(async () => {
  set = await startSshHosts(1);
  // A host whose sessions see an empty PATH: expect (and everything else not built into bash) is absent.
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

describe('runExpect', () => {
  it('runs an Expect script that drives an interactive program, with variables as data', async () => {
    const connection = pool.get(must(set.hosts[0], 'host 0').spec());
    const script = [
      'set timeout 10',
      'spawn bash -c {read -p "Name: " name; echo "hello <$name>"}',
      'expect "Name: "',
      'send -- "$env(WHO)\\r"',
      'expect eof',
      'exit 4',
    ].join('\n');
    const result = await runExpect(connection, script, { variables: { WHO: 'dvx "$(x)" [y]' } });
    expect(result.exitCode).toBe(4);
    expect(result.stdout).toContain('hello <dvx "$(x)" [y]>');
  });

  it('fails with HOST_COMMAND_FAILED on a non-zero exit when check is set', async () => {
    const connection = pool.get(must(set.hosts[0], 'host 0').spec());
    const error = await rejection(runExpect(connection, 'puts stderr "no luck"; exit 2', { check: true }));
    expect(error.code).toBe('HOST_COMMAND_FAILED');
    expect(error.output).toContain('no luck');
  });

  it('reports a host without expect as HOST_CAPABILITY_MISSING saying to install it', async () => {
    const host = must(bare.hosts[0], 'host 0');
    const connection = pool.get(host.spec());
    // The host works; it just has no expect on its PATH.
    expect((await runBash(connection, 'echo "$PATH"')).stdout).toBe(`${join(emptyBin.path, 'bin')}\n`);
    const error = await rejection(runExpect(connection, 'puts hi'));
    expect(error.code).toBe('HOST_CAPABILITY_MISSING');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(host.name);
    expect(error.action).toMatch(/Install expect/);
  });
});
