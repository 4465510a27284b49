import { chown, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDvxError, type DvxError } from '../../errors/index.js';
import { runBash, runExpect, runSync, SshConnectionPool, type HostConnection } from '../../hosts/index.js';
import { isRunning } from '../harness/ssh-processes.js';
import { startSshHosts, type TestSshHost, type TestSshHosts } from '../harness/ssh-hosts.js';
import { createTempUser, type TempUser } from '../harness/ssh-users.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { waitFor } from '../harness/wait-for.js';
import { describeHostConnectionConformance } from './host-connection.conformance.js';
import { must } from '../harness/must.js';

async function rejection(promise: Promise<unknown>): Promise<DvxError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isDvxError(error)) throw new Error(`expected a DvxError, got ${String(error)}`);
  return error;
}

/** Pids a command wrote to `path` ("shell child"), once it has written them. */
async function pidsIn(path: string): Promise<number[]> {
  const text = await waitFor(
    `${path} to be written`,
    () =>
      readFile(path, 'utf8').then(
        (content) => (content.endsWith('\n') ? content : ''),
        () => '',
      ),
    10_000,
  );
  return text.trim().split(' ').map(Number);
}

// Login shells outside the POSIX family: sshd hands them every command as `SHELL -c COMMAND`. csh/tcsh read `>&2` as
// "stdout and stderr to a file named 2" and expand history on "!"; fish has no `$$` and reads backslashes inside single
// quotes. dvx's command line must mean the same to all of them. (`npm run setup` installs both.)
const SHELLS = ['/usr/bin/tcsh', '/usr/bin/fish'];

let set: TestSshHosts;
let host: TestSshHost;
beforeAll(async () => {
  set = await startSshHosts(1, { passwordAuthentication: true, usersOwnHomes: true });
  host = must(set.hosts[0], 'host 0');
});
afterAll(async () => {
  await set?.stopAll();
});

for (const shell of SHELLS) {
  describe(`a login user whose shell is ${shell}`, () => {
    let user: TempUser;
    let pool: SshConnectionPool;
    let connection: HostConnection;
    let scratch: string;
    beforeAll(async () => {
      user = await createTempUser({ shell });
      pool = new SshConnectionPool();
      connection = pool.get(host.specAs(user));
      scratch = join(user.home, 'scratch');
      await mkdir(scratch, { recursive: true });
      await chown(scratch, user.uid, user.gid);
    });
    afterAll(async () => {
      await pool?.close();
      await user?.remove();
    });

    it('runs runBash as that user with variables as data, and stderr free of the pid report', async () => {
      const value = `it's "$(touch pwned)" \\ !! $HOME \`x\``;
      const result = await runBash(connection, 'id -un; printf "%s\\n" "$V"; echo err >&2; exit 3', {
        variables: { V: value },
      });
      expect(result).toEqual({ exitCode: 3, stdout: `${user.name}\n${value}\n`, stderr: 'err\n' });
      const login = await runBash(connection, 'echo "${DVX_PROFILE:-none}"', { loginShell: true, check: true });
      expect(login.stdout).toBe('none\n');
    });

    it('runs runExpect', async () => {
      const result = await runExpect(connection, 'puts "got $env(V)"; exit 2', { variables: { V: 'a [b] $c' } });
      expect(result.exitCode).toBe(2);
      expect(result.stdout).toBe('got a [b] $c\n');
    });

    it('runs runSync into an engine path', async () => {
      const source = join(scratch, 'sync-source');
      await runBash(connection, 'mkdir -p "$S/sub" && echo one > "$S/a.txt" && echo two > "$S/sub/b.txt"', {
        variables: { S: source },
        check: true,
      });
      const engine = await makeTempDir('non-posix-sync');
      try {
        const stats = await runSync({ from: { connection, path: source }, to: { path: join(engine.path, 'copy') } });
        expect(stats.filesTransferred).toBe(2);
        expect(await readFile(join(engine.path, 'copy', 'sub', 'b.txt'), 'utf8')).toBe('two\n');
      } finally {
        await engine.remove();
      }
    });

    it('kills a timed-out script and everything it started, through the pid the command reported', async () => {
      const file = join(scratch, `timeout-${Date.now()}`);
      const error = await rejection(
        runBash(connection, 'sleep 300 & echo "$$ $!" > "$F"; wait', { variables: { F: file }, timeoutMs: 1_000 }),
      );
      expect(error.code).toBe('HOST_TIMEOUT');
      const [scriptPid, sleeperPid] = await pidsIn(file);
      const script = must(scriptPid, 'the pid of the script');
      const sleeper = must(sleeperPid, 'the pid of its child');
      // Well within the 5 s after which a command that never reported its pid has only its channel closed.
      await waitFor(
        'the timed-out script and its child to be gone',
        () => !isRunning(script) && !isRunning(sleeper),
        3_000,
      );
    });

    it('kills a cancelled command and a killed spawned command', async () => {
      const cancelledFile = join(scratch, `cancel-${Date.now()}`);
      const controller = new AbortController();
      const running = runBash(connection, 'sleep 300 & echo "$$ $!" > "$F"; wait', {
        variables: { F: cancelledFile },
        signal: controller.signal,
      });
      const cancelled = await pidsIn(cancelledFile);
      controller.abort();
      expect((await rejection(running)).code).toBe('RUN_CANCELLED');
      await waitFor('the cancelled command to be gone', () => cancelled.every((pid) => !isRunning(pid)), 3_000);

      const spawnedFile = join(scratch, `spawned-${Date.now()}`);
      const spawned = await connection.spawn(`sleep 300 & echo "$$ $(jobs -p)" > ${spawnedFile}; wait`);
      spawned.stdout.resume();
      spawned.stderr.resume();
      const pids = await pidsIn(spawnedFile);
      spawned.kill();
      expect(await spawned.exit).toBeGreaterThan(128);
      await waitFor('the killed command to be gone', () => pids.every((pid) => !isRunning(pid)), 3_000);
    });
  });
}

for (const shell of SHELLS) {
  let user: TempUser;
  describeHostConnectionConformance(`pooled ssh2 connection, login shell ${shell}`, async () => {
    user = await createTempUser({ shell });
    const pool = new SshConnectionPool();
    return {
      connection: pool.get(host.specAs(user)),
      cleanup: async () => {
        await pool.close();
        await user.remove();
      },
    };
  });
}
