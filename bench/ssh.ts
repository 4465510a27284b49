// runBash latency on one pooled SSH connection against a new connection per command (the baseline), on one sshd
// host of the test harness over loopback; plus raw exec on the pooled connection (the bootstrap's cost), the OpenSSH
// client run once per command (what shelling out to `ssh` would cost) and throughput with the pool's channel bound.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runBash, SshConnectionPool } from '../hosts/index.js';
import { startSshHosts } from '../test/harness/ssh-hosts.js';
import { must } from '../test/harness/must.js';
import { round, summarize, timeEach } from './lib/stats.js';

const WARMUP = 20;
const POOLED = 300;
const FRESH = 50;
const OPENSSH_CLI = 20;
const THROUGHPUT = 400;
const THROUGHPUT_CONCURRENCY = 16;

export default async function ssh() {
  const set = await startSshHosts(1);
  const host = must(set.hosts[0], 'a host');
  const pool = new SshConnectionPool();
  try {
    const connection = pool.get(host.spec());
    await timeEach(WARMUP, () => runBash(connection, 'true', { check: true }));
    const pooled = summarize(await timeEach(POOLED, () => runBash(connection, 'true', { check: true })));
    const rawExec = summarize(await timeEach(POOLED, () => connection.exec('true')));

    // Connect, authenticate and run; closing is awaited between samples, outside the timing.
    const freshSamples: number[] = [];
    for (let i = 0; i < FRESH; i += 1) {
      const own = new SshConnectionPool();
      const start = performance.now();
      await runBash(own.get(host.spec({ id: `fresh-${i}` })), 'true', { check: true });
      freshSamples.push(performance.now() - start);
      await own.close();
    }
    const fresh = summarize(freshSamples);

    const port = String(host.address.port);
    const cli = summarize(
      await timeEach(OPENSSH_CLI, () =>
        promisify(execFile)('ssh', [
          '-F',
          '/dev/null',
          '-i',
          set.clientKey.path,
          '-p',
          port,
          '-o',
          'BatchMode=yes',
          '-o',
          'StrictHostKeyChecking=no',
          '-o',
          'UserKnownHostsFile=/dev/null',
          '-o',
          'LogLevel=ERROR',
          'root@127.0.0.1',
          'true',
        ]),
      ),
    );

    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: THROUGHPUT_CONCURRENCY }, async () => {
        while (next < THROUGHPUT) {
          next += 1;
          await runBash(connection, 'true', { check: true });
        }
      }),
    );
    const commandsPerSecond = Math.round(THROUGHPUT / ((performance.now() - start) / 1000));

    return {
      description: `runBash('true') against one sshd on loopback (OpenSSH, ed25519 host and client keys); latency in ms`,
      pooledRunBash: pooled,
      pooledRawExec: rawExec,
      newConnectionPerCommand: fresh,
      opensshClientPerCommand: cli,
      ratioP50: round(fresh.p50 / pooled.p50, 2),
      ratioP99: round(fresh.p99 / pooled.p99, 2),
      pooledThroughput: {
        commands: THROUGHPUT,
        callers: THROUGHPUT_CONCURRENCY,
        maxChannels: connection.stats.peakChannels,
        commandsPerSecond,
      },
      connectionsMadeByPool: pool.connectionsMade,
    };
  } finally {
    await pool.close();
    await set.stopAll();
  }
}
