// What becomes of the processes a runBash script starts: what docs/plugin-authors.md tells plugin authors.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runBash, SshConnectionPool, type HostConnection } from '../../hosts/index.js';
import { startSshHosts, type TestSshHost, type TestSshHosts } from '../harness/ssh-hosts.js';
import { isRunning, killPids } from '../harness/ssh-processes.js';
import { waitFor } from '../harness/wait-for.js';
import { must } from '../harness/must.js';

let set: TestSshHosts;
let host: TestSshHost;
let pool: SshConnectionPool;
let connection: HostConnection;
const started: number[] = [];

beforeAll(async () => {
  set = await startSshHosts(1);
  host = must(set.hosts[0], 'host 0');
  pool = new SshConnectionPool();
  connection = pool.get(host.spec());
});
afterEach(() => killPids(started.splice(0)));
afterAll(async () => {
  await pool?.close();
  await set?.stopAll();
});

/** The pid a script wrote to `file` in the host's home. */
async function pidIn(file: string): Promise<number> {
  const pid = await waitFor(
    `a pid in ${file}`,
    async () => Number((await readFile(join(host.home, file), 'utf8').catch(() => '')).trim()) || null,
    10_000,
    50,
  );
  started.push(pid);
  return pid;
}

describe('runBash and the processes its script starts', () => {
  it('waits for a background child that keeps stdout or stderr open: the call returns when the child is done', async () => {
    const result = await runBash(connection, '(sleep 1; echo "late child") & echo parent', { check: true });
    expect(result.stdout).toBe('parent\nlate child\n');
  });

  it('returns at once past a background child with its output redirected, and the child runs on', async () => {
    const result = await runBash(connection, 'sleep 300 >/dev/null 2>&1 </dev/null & echo $! > bg.pid; echo started', {
      check: true,
    });
    expect(result.stdout).toBe('started\n');
    const pid = await pidIn('bg.pid');
    expect(isRunning(pid)).toBe(true);
  });

  it('a timeout kills the script and every child in its process group, not a setsid daemon', async () => {
    const script = [
      'sleep 300 >/dev/null 2>&1 </dev/null & echo $! > group-child.pid',
      "setsid sh -c 'echo $$ > daemon.pid; exec sleep 300' >/dev/null 2>&1 </dev/null &",
      'sleep 300',
    ].join('\n');
    const error = await runBash(connection, script, { timeoutMs: 2_000 }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'HOST_TIMEOUT' });
    const child = await pidIn('group-child.pid');
    const daemon = await pidIn('daemon.pid');
    await waitFor('the child in the group to be killed', async () => !isRunning(child) || null, 10_000, 50);
    expect(isRunning(daemon)).toBe(true);
  });

  it("an abort of the step's signal does the same as a timeout", async () => {
    const controller = new AbortController();
    const call = runBash(connection, 'sleep 300 >/dev/null 2>&1 </dev/null & echo $! > aborted-child.pid; sleep 300', {
      signal: controller.signal,
    }).catch((caught: unknown) => caught);
    const child = await pidIn('aborted-child.pid');
    controller.abort();
    await call;
    await waitFor('the aborted child to be killed', async () => !isRunning(child) || null, 10_000, 50);
  });

  it('starts a daemon with setsid and redirected output: the call returns and the daemon outlives the session', async () => {
    const result = await runBash(
      connection,
      "setsid -f sh -c 'echo $$ > daemon-f.pid; exec sleep 300' >daemon.log 2>&1 </dev/null; echo launched",
      { check: true },
    );
    expect(result.stdout).toBe('launched\n');
    const daemon = await pidIn('daemon-f.pid');
    expect(isRunning(daemon)).toBe(true);
  });

  it('when the engine loses the connection (it died) the command goes on running on the host', async () => {
    const own = new SshConnectionPool();
    const lost = own.get(host.spec());
    const call = runBash(lost, 'echo $$ > orphan.pid; sleep 300').catch((caught: unknown) => caught);
    const pid = await pidIn('orphan.pid');
    await own.close();
    expect(await call).toMatchObject({ code: 'HOST_CONNECTION_LOST' });
    // sshd gives the session time to go; the command, without a terminal, gets no hangup.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(isRunning(pid)).toBe(true);
  });
});
