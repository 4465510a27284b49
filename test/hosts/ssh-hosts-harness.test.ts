import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBash, SshConnectionPool } from '../../hosts/index.js';
import { isAlive, isRunning } from '../harness/ssh-processes.js';
import { startSshHosts } from '../harness/ssh-hosts.js';
import { waitFor } from '../harness/wait-for.js';
import { must } from '../harness/must.js';

describe('test harness: sshd hosts', () => {
  it('starts hosts with their own port, host key and home, and stops every process they ran', async () => {
    const set = await startSshHosts(2);
    const pool = new SshConnectionPool();
    try {
      const [a, b] = set.hosts as [(typeof set.hosts)[0], (typeof set.hosts)[0]];
      expect(a.address.port).not.toBe(b.address.port);
      expect(a.hostKey).not.toBe(b.hostKey);
      expect(a.home).not.toBe(b.home);
      expect((await runBash(pool.get(a.spec()), 'echo "$HOME"')).stdout).toBe(`${a.home}\n`);

      // A session left running (a daemon-like child that ignores the connection) is killed with its host.
      const pidFile = join(a.home, 'daemon.pid');
      await runBash(pool.get(a.spec()), 'nohup sleep 300 >/dev/null 2>&1 & echo $! > "$F"', {
        variables: { F: pidFile },
        check: true,
      });
      const daemon = Number(await readFile(pidFile, 'utf8'));
      const listener = must(a.pid(), 'the pid of the listening sshd');
      expect(isAlive(daemon)).toBe(true);
      // `$!` is known as soon as bash forks; while the child execs nohup and sleep its environment cannot be read.
      await waitFor('the session process to be seen', () => a.sessionPids().includes(daemon));

      await a.stop();
      expect(isAlive(listener)).toBe(false);
      await waitFor('the orphaned session process to be gone', () => !isRunning(daemon));
      expect(a.sessionPids()).toEqual([]);

      await a.start();
      expect((await runBash(pool.get(a.spec()), 'echo back')).stdout).toBe('back\n');
    } finally {
      await pool.close();
      await set.stopAll();
    }
    for (const host of set.hosts) {
      expect(host.pid()).toBeUndefined();
      expect(host.sessionPids()).toEqual([]);
      expect(existsSync(host.dir)).toBe(false);
    }
  });
});
