import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDvxError, type DvxError } from '../../errors/index.js';
import { runBash, SshConnectionPool, type HostConnection } from '../../hosts/index.js';
import { startSshHosts, type TestSshHost, type TestSshHosts } from '../harness/ssh-hosts.js';
import { isRunning } from '../harness/ssh-processes.js';
import { waitFor } from '../harness/wait-for.js';
import { must } from '../harness/must.js';

async function rejection(promise: Promise<unknown>): Promise<DvxError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isDvxError(error)) throw new Error(`expected a DvxError, got ${String(error)}`);
  return error;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** Values that break any shell quoting they would be pasted into. */
const HOSTILE = {
  SINGLE_QUOTES: "it's 'quoted'",
  DOUBLE_QUOTES: 'say "hi" \\" \\\\',
  COMMAND_SUBSTITUTION: '$(touch "$HOME/pwned-subst")',
  BACKTICKS: '`touch "$HOME/pwned-backtick"`',
  NEWLINES: 'line one\nline two\n\n',
  SEMICOLONS: 'a; touch "$HOME/pwned-semicolon"; b && c || d | e & f',
  EXPANSIONS: '$HOME ${PATH} $((1+1)) !! ~ * ? [a-z] {a,b}',
  UNICODE: 'héllo wörld 世界 🎉 \u200b',
  EMPTY: '',
  LEADING_DASHES: '--help',
  SINGLE_DASH: '-e',
  CONTROL: '\t\r\n\u0001\u001b[31m',
  PRINTF_FORMAT: '%s %d %n \\x41',
  BIG: 'x'.repeat(64 * 1024),
} satisfies Record<string, string>;

let set: TestSshHosts;
let host: TestSshHost;
let pool: SshConnectionPool;
let connection: HostConnection;
beforeAll(async () => {
  set = await startSshHosts(1);
  host = must(set.hosts[0], 'host 0');
  pool = new SshConnectionPool();
  connection = pool.get(host.spec());
});
afterAll(async () => {
  await pool?.close();
  await set?.stopAll();
});

describe('runBash', () => {
  it('delivers variables full of quotes, $(...), backticks, newlines and ";" byte for byte, as data', async () => {
    const names = Object.keys(HOSTILE);
    const script = `for name in ${names.join(' ')}; do printf '%s %s\\n' "$name" "$(printf %s "\${!name}" | sha256sum | cut -d' ' -f1)"; done`;
    const result = await runBash(connection, script, { variables: HOSTILE, check: true });
    const hashes = Object.fromEntries(
      result.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(' ') as [string, string]),
    );
    expect(hashes).toEqual(Object.fromEntries(Object.entries(HOSTILE).map(([name, value]) => [name, sha256(value)])));
    for (const trap of ['pwned-subst', 'pwned-backtick', 'pwned-semicolon'])
      expect(existsSync(join(host.home, trap))).toBe(false);
  });

  it('shows a hostile value to the script exactly, as a hex dump proves', async () => {
    const value = HOSTILE.SEMICOLONS + HOSTILE.NEWLINES + HOSTILE.UNICODE;
    const result = await runBash(connection, 'printf %s "$V" | od -An -tx1 -v | tr -d " \\n"', {
      variables: { V: value },
      check: true,
    });
    expect(result.stdout).toBe(Buffer.from(value, 'utf8').toString('hex'));
  });

  it('runs script text containing quotes, $(...), backticks, ";" and unicode unchanged', async () => {
    const payload = `it's "all" $(not run) \`nor this\`; a && b | c\n\ttabbed ${'${HOME}'} 世界 🎉 \\ trailing spaces   `;
    const script = `cat <<'DVX_EOF' | sha256sum | cut -d' ' -f1\n${payload}\nDVX_EOF\necho "done: it's fine"`;
    const result = await runBash(connection, script, { check: true });
    expect(result.stdout).toBe(`${sha256(`${payload}\n`)}\ndone: it's fine\n`);
  });

  it('runs from the home directory, with /dev/null as the script stdin', async () => {
    const result = await runBash(connection, 'pwd; cat; echo "after cat"');
    expect(result.stdout).toBe(`${host.home}\nafter cat\n`);
  });

  it('returns exit code, stdout and stderr, and only fails on a non-zero exit when check is set', async () => {
    expect(await runBash(connection, 'echo out; echo err >&2; exit 3')).toEqual({
      exitCode: 3,
      stdout: 'out\n',
      stderr: 'err\n',
    });
    const error = await rejection(runBash(connection, 'echo out; echo "it broke" >&2; exit 3', { check: true }));
    expect(error.code).toBe('HOST_COMMAND_FAILED');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('exit code 3');
    expect(error.message).toContain(host.name);
    expect(error.output).toContain('it broke');
    expect(error.output).toContain('out');
  });

  it('kills the script and everything it started when timeoutMs passes, with a retryable HOST_TIMEOUT', async () => {
    const pids = join(host.home, `timeout-${Date.now()}`);
    const error = await rejection(
      runBash(connection, 'sleep 300 & echo "$$ $!" > "$PIDS"; wait', { variables: { PIDS: pids }, timeoutMs: 500 }),
    );
    expect(error.code).toBe('HOST_TIMEOUT');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain(host.name);
    const [shellPid, sleeperPid] = (await readFile(pids, 'utf8')).trim().split(' ').map(Number);
    const shell = must(shellPid, 'the pid of the script');
    const sleeper = must(sleeperPid, 'the pid of its child');
    await waitFor(
      'the timed-out script and its child to be gone',
      () => !isRunning(shell) && !isRunning(sleeper),
      10_000,
    );
  });

  it('sources the login profile with loginShell and not without', async () => {
    await writeFile(join(host.home, '.bash_profile'), 'export DVX_PROFILE=loaded\n');
    expect((await runBash(connection, 'echo "${DVX_PROFILE:-none}"', { loginShell: true })).stdout).toBe('loaded\n');
    expect((await runBash(connection, 'echo "${DVX_PROFILE:-none}"', { loginShell: false })).stdout).toBe('none\n');
    expect((await runBash(connection, 'echo "${DVX_PROFILE:-none}"')).stdout).toBe('none\n');
  });

  it('refuses bad variables with HOST_BAD_INPUT before running anything', async () => {
    const cases: Array<Record<string, string>> = [
      { '1ABC': 'x' },
      { 'A-B': 'x' },
      { 'A B': 'x' },
      { '': 'x' },
      { OK: 'nul\0byte' },
      { OK: 'lone \ud800 surrogate' },
      { __dvx_kv: 'x' },
      { SHELLOPTS: 'x' },
    ];
    for (const variables of cases) {
      const error = await rejection(runBash(connection, 'touch "$HOME/should-not-exist"', { variables }));
      expect(error.code).toBe('HOST_BAD_INPUT');
      expect(error.retryable).toBe(false);
    }
    expect((await rejection(runBash(connection, 'echo a\0b'))).code).toBe('HOST_BAD_INPUT');
    expect(existsSync(join(host.home, 'should-not-exist'))).toBe(false);
  });

  it('passes many variables at once and leaves the environment otherwise alone', async () => {
    const variables = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`V_${i}`, `value ${i}`]));
    const result = await runBash(connection, 'echo "$V_0|$V_199|$HOME|${__dvx_kv-unset}"', { variables, check: true });
    expect(result.stdout).toBe(`value 0|value 199|${host.home}|unset\n`);
  });
});
