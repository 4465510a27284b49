import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isDvxError, type DvxError } from '../../errors/index.js';
import { runBash, SshConnectionPool } from '../../hosts/index.js';
import { killPids } from '../harness/ssh-processes.js';
import { startSshHosts, type TestSshHosts } from '../harness/ssh-hosts.js';
import { createTempUser, type TempUser } from '../harness/ssh-users.js';
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

let set: TestSshHosts;
beforeAll(async () => {
  set = await startSshHosts(2);
});
afterAll(async () => {
  await set?.stopAll();
});

describeHostConnectionConformance('pooled ssh2 connection', async () => {
  const pool = new SshConnectionPool();
  return { connection: pool.get(must(set.hosts[0], 'host 0').spec()), cleanup: () => pool.close() };
});

describeHostConnectionConformance('pooled ssh2 connection limited to one channel', async () => {
  const pool = new SshConnectionPool({ maxChannels: 1 });
  return {
    connection: pool.get(must(set.hosts[0], 'host 0').spec({ id: 'one-channel' })),
    cleanup: () => pool.close(),
  };
});

/** The pids a command wrote to `marker` once it started: its per-connection sshd, then its own session shell. */
async function startedPids(marker: string): Promise<{ sshdPid: number; sessionPid: number }> {
  const [sshdPid, sessionPid] = (await waitFor('the command to start', () => readFile(marker, 'utf8').catch(() => '')))
    .trim()
    .split(' ')
    .map(Number);
  return { sshdPid: must(sshdPid, 'the pid of the sshd'), sessionPid: must(sessionPid, 'the pid of the session') };
}

describe('SshConnectionPool', () => {
  const pools: SshConnectionPool[] = [];
  const newPool = (options?: ConstructorParameters<typeof SshConnectionPool>[0]) => {
    const pool = new SshConnectionPool(options);
    pools.push(pool);
    return pool;
  };
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.close()));
  });

  it('runs 100 sequential commands over a single SSH connection', async () => {
    const host = must(set.hosts[0], 'host 0');
    const before = await host.acceptedLogins();
    const pool = newPool();
    const connection = pool.get(host.spec());
    for (let i = 0; i < 100; i += 1)
      expect((await runBash(connection, 'echo "$N"', { variables: { N: String(i) } })).stdout).toBe(`${i}\n`);
    expect(pool.connectionsMade).toBe(1);
    // The host's own log agrees: one login for the hundred commands.
    expect(await host.acceptedLogins()).toBe(before + 1);
    expect(pool.get(host.spec())).toBe(connection);
  });

  it('fails a command whose connection is killed with a retryable HOST_CONNECTION_LOST, and reconnects for the next', async () => {
    const host = must(set.hosts[0], 'host 0');
    const pool = newPool();
    const connection = pool.get(host.spec());
    const marker = join(host.home, `killed-${Date.now()}`);
    const running = runBash(connection, 'echo "$PPID $$" > "$MARKER.tmp" && mv "$MARKER.tmp" "$MARKER"; sleep 30', {
      variables: { MARKER: marker },
    });
    const { sshdPid, sessionPid } = await startedPids(marker);
    try {
      // The per-connection sshd process: killing it drops the connection in the middle of the command.
      process.kill(sshdPid, 'SIGKILL');
      const error = await rejection(running);
      expect(error.code).toBe('HOST_CONNECTION_LOST');
      expect(error.retryable).toBe(true);
      expect(error.message).toContain(host.name);
      expect((await runBash(connection, 'echo back')).stdout).toBe('back\n');
      expect(pool.connectionsMade).toBe(2);
    } finally {
      killPids([-sessionPid]);
    }
  });

  it('notices a connection that went silent through keepalives, and reconnects for the next command', async () => {
    const host = must(set.hosts[0], 'host 0');
    const pool = newPool({ keepaliveIntervalMs: 200, keepaliveCountMax: 2 });
    const connection = pool.get(host.spec());
    const marker = join(host.home, `silent-${Date.now()}`);
    const running = runBash(connection, 'echo "$PPID $$" > "$MARKER.tmp" && mv "$MARKER.tmp" "$MARKER"; sleep 30', {
      variables: { MARKER: marker },
    });
    const { sshdPid, sessionPid } = await startedPids(marker);
    try {
      // A stopped sshd keeps the TCP connection open but answers nothing: what a vanished network looks like.
      process.kill(sshdPid, 'SIGSTOP');
      const error = await rejection(running);
      expect(error.code).toBe('HOST_CONNECTION_LOST');
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/keepalive/i);
      expect((await runBash(connection, 'echo fresh')).stdout).toBe('fresh\n');
      expect(pool.connectionsMade).toBe(2);
    } finally {
      killPids([sshdPid, -sessionPid]);
    }
  });

  it('fails with a retryable HOST_UNREACHABLE while the host is down, and reconnects once it is back', async () => {
    const host = must(set.hosts[1], 'host 1');
    const pool = newPool();
    const connection = pool.get(host.spec());
    expect((await runBash(connection, 'echo up')).stdout).toBe('up\n');
    await host.stop();
    try {
      const error = await rejection(runBash(connection, 'echo down'));
      expect(error.code).toBe('HOST_UNREACHABLE');
      expect(error.retryable).toBe(true);
      expect(error.message).toContain(host.name);
    } finally {
      await host.start();
    }
    expect((await runBash(connection, 'echo up again')).stdout).toBe('up again\n');
    expect(pool.connectionsMade).toBe(2);
  });

  it('reconnects by itself after a host reboot while idle', async () => {
    const host = must(set.hosts[1], 'host 1');
    const pool = newPool();
    const connection = pool.get(host.spec());
    await runBash(connection, 'true');
    await host.restart();
    expect((await runBash(connection, 'echo rebooted')).stdout).toBe('rebooted\n');
    expect(pool.connectionsMade).toBe(2);
  });

  it('refuses a host whose key changed with HOST_KEY_MISMATCH naming the host, both fingerprints and how to re-pin', async () => {
    const host = must(set.hosts[1], 'host 1');
    const pool = newPool();
    const pinned = host.spec();
    const connection = pool.get(pinned);
    const oldFingerprint = (await connection.hostKey()).fingerprint;
    await host.rotateHostKey();
    await host.restart();
    const newFingerprint = (await newPool().get(host.spec()).hostKey()).fingerprint;
    expect(newFingerprint).not.toBe(oldFingerprint);

    const error = await rejection(runBash(connection, 'echo should not run'));
    expect(error.code).toBe('HOST_KEY_MISMATCH');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(host.name);
    expect(error.message).toContain(oldFingerprint);
    expect(error.message).toContain(newFingerprint);
    expect(error.action).toContain(`dvx env refresh ${host.name} --accept-new-host-key`);
    // A fresh pool pinned to the old key is refused as well; without a pin, the first key seen is kept.
    expect((await rejection(newPool().get(pinned).hostKey())).code).toBe('HOST_KEY_MISMATCH');
    const unpinned = newPool().get(host.spec({ pinnedHostKey: undefined }));
    await runBash(unpinned, 'true');
    await host.rotateHostKey();
    await host.restart();
    expect((await rejection(runBash(unpinned, 'true'))).code).toBe('HOST_KEY_MISMATCH');
  });

  it('accepts a pin given as a SHA256 fingerprint', async () => {
    const host = must(set.hosts[0], 'host 0');
    const fingerprint = (await newPool().get(host.spec()).hostKey()).fingerprint;
    const connection = newPool().get(host.spec({ pinnedHostKey: fingerprint }));
    expect((await runBash(connection, 'echo ok')).stdout).toBe('ok\n');
  });

  it('fails with a permanent HOST_AUTH_FAILED when the host does not know the key', async () => {
    const host = must(set.hosts[0], 'host 0');
    const stranger = ssh2.utils.generateKeyPairSync('ed25519');
    const error = await rejection(
      runBash(newPool().get(host.spec({ credentials: { privateKey: stranger.private } })), 'true'),
    );
    expect(error.code).toBe('HOST_AUTH_FAILED');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(host.name);
  });

  it('fails with HOST_BAD_INPUT for unreadable or ambiguous credentials', async () => {
    const host = must(set.hosts[0], 'host 0');
    expect(
      (await rejection(runBash(newPool().get(host.spec({ credentials: { privateKey: 'not a key' } })), 'true'))).code,
    ).toBe('HOST_BAD_INPUT');
    expect((await rejection(runBash(newPool().get(host.spec({ credentials: {} })), 'true'))).code).toBe(
      'HOST_BAD_INPUT',
    );
  });

  it('replaces the connection of a host whose spec changed', async () => {
    const host = must(set.hosts[0], 'host 0');
    const pool = newPool();
    const first = pool.get(host.spec());
    const second = pool.get(host.spec({ address: { ...host.address, name: 'renamed' } }));
    expect(second).not.toBe(first);
    expect(second.address.name).toBe('renamed');
  });

  describe('channel bound', () => {
    // Each command counts itself in and out of a counter file under flock and records the highest count seen. The
    // first `limit` commands wait until the count reached `limit`, so a pool that allows the bound reaches it.
    const COUNTED = String.raw`
exec 9>"$DIR/lock"
flock 9; read cur max started < "$DIR/counter"; cur=$((cur + 1)); started=$((started + 1)); [ "$cur" -gt "$max" ] && max=$cur
me=$started; echo "$cur $max $started" > "$DIR/counter"; flock -u 9
if [ "$me" -le "$LIMIT" ]; then
  for i in $(seq 1 400); do flock -s 9; read cur max started < "$DIR/counter"; flock -u 9; [ "$max" -ge "$LIMIT" ] && break; sleep 0.05; done
fi
sleep 0.1
flock 9; read cur max started < "$DIR/counter"; echo "$((cur - 1)) $max $started" > "$DIR/counter"; flock -u 9
`;

    async function measure(
      maxChannels: number | undefined,
      limit: number,
      commands: number,
    ): Promise<{ cur: number; max: number; started: number }> {
      const host = must(set.hosts[0], 'host 0');
      const dir = join(host.home, `bound-${limit}-${Date.now()}`);
      const pool = newPool(maxChannels === undefined ? {} : { maxChannels });
      const connection = pool.get(host.spec());
      await runBash(connection, 'mkdir -p "$DIR" && echo "0 0 0" > "$DIR/counter"', { variables: { DIR: dir } });
      await Promise.all(
        Array.from({ length: commands }, () =>
          runBash(connection, COUNTED, { variables: { DIR: dir, LIMIT: String(limit) }, check: true }),
        ),
      );
      expect(connection.stats.peakChannels).toBe(limit);
      const [cur, max, started] = (await readFile(join(dir, 'counter'), 'utf8')).trim().split(' ').map(Number);
      return {
        cur: must(cur, 'the current count'),
        max: must(max, 'the peak count'),
        started: must(started, 'the started count'),
      };
    }

    it('never runs more than 8 commands at once on a host by default (below sshd MaxSessions 10)', async () => {
      expect(await measure(undefined, 8, 24)).toEqual({ cur: 0, max: 8, started: 24 });
    });

    it('honours a smaller maxChannels, queueing the rest', async () => {
      expect(await measure(3, 3, 10)).toEqual({ cur: 0, max: 3, started: 10 });
    });
  });

  describe('password authentication', () => {
    let passwordHosts: TestSshHosts;
    let user: TempUser;
    beforeAll(async () => {
      passwordHosts = await startSshHosts(1, { passwordAuthentication: true });
      user = await createTempUser();
    });
    afterAll(async () => {
      await passwordHosts?.stopAll();
      await user?.remove();
    });

    it('logs in with a password', async () => {
      const host = must(passwordHosts.hosts[0], 'host 0');
      const connection = newPool().get(
        host.spec({ address: { ...host.address, user: user.name }, credentials: { password: user.password } }),
      );
      const result = await runBash(connection, 'id -un; id -u');
      expect(result.stdout).toBe(`${user.name}\n${user.uid}\n`);
      expect(connection.keySigner()).toBeNull();
    });

    it('fails with a permanent HOST_AUTH_FAILED for a wrong password', async () => {
      const host = must(passwordHosts.hosts[0], 'host 0');
      const connection = newPool().get(
        host.spec({
          address: { ...host.address, user: user.name },
          credentials: { password: `${user.password}-wrong` },
        }),
      );
      const error = await rejection(runBash(connection, 'true'));
      expect(error.code).toBe('HOST_AUTH_FAILED');
      expect(error.retryable).toBe(false);
    });
  });

  it('closes every connection on close() and refuses new work', async () => {
    const host = must(set.hosts[0], 'host 0');
    const pool = new SshConnectionPool();
    const connection = pool.get(host.spec());
    await runBash(connection, 'true');
    expect(connection.stats.connected).toBe(true);
    await pool.close();
    expect(connection.stats.connected).toBe(false);
    expect(() => pool.get(host.spec())).toThrow(/closed/);
    await expect(runBash(connection, 'true')).rejects.toThrow(/closed/);
  });
});
