import { describe, expect, it } from 'vitest';
import {
  CommandFailedError,
  DvxError,
  HostError,
  rsyncFailureError,
  startDeadline,
  toDvxError,
} from '../../errors/index.js';
import { must } from '../harness/must.js';

describe('rsyncFailureError', () => {
  const engine = { source: 'db1', destination: 'the engine', viaSsh: false };
  const hostToHost = { source: 'db1', destination: 'db2', viaSsh: true };

  it.each([
    [10, 'HOST_CONNECTION_LOST', true],
    [12, 'HOST_CONNECTION_LOST', true],
    [30, 'HOST_TIMEOUT', true],
    [35, 'HOST_TIMEOUT', true],
    [1, 'HOST_COMMAND_FAILED', false],
    [2, 'HOST_COMMAND_FAILED', false],
    [3, 'HOST_COMMAND_FAILED', false],
    [11, 'HOST_COMMAND_FAILED', false],
    [23, 'HOST_COMMAND_FAILED', false],
    [99, 'HOST_COMMAND_FAILED', false],
  ])('maps rsync exit code %i to %s (retryable: %s), with an action and the exit code', (exitCode, code, retryable) => {
    const error = rsyncFailureError({ exitCode, output: 'rsync: something\n' }, engine);
    expect(error).toBeInstanceOf(HostError);
    expect(error).toMatchObject({ code, retryable, output: 'rsync: something' });
    expect(error.action).toBeTruthy();
    expect(error.details).toMatchObject({ host: 'db1', exitCode });
    expect(error.message).toContain(`code ${exitCode}`);
  });

  it('reports a missing rsync as HOST_CAPABILITY_MISSING', () => {
    expect(rsyncFailureError({ exitCode: 127, output: '' }, engine).code).toBe('HOST_CAPABILITY_MISSING');
    expect(rsyncFailureError({ exitCode: 12, output: 'bash: line 1: rsync: command not found' }, engine).code).toBe(
      'HOST_CAPABILITY_MISSING',
    );
  });

  it("reads the destination's ssh failures only for host-to-host copies", () => {
    expect(rsyncFailureError({ exitCode: 255, output: 'Host key verification failed.' }, hostToHost).code).toBe(
      'HOST_KEY_MISMATCH',
    );
    expect(
      rsyncFailureError({ exitCode: 255, output: 'user@db1: Permission denied (publickey).' }, hostToHost).code,
    ).toBe('HOST_AUTH_FAILED');
    const unreachable = rsyncFailureError(
      { exitCode: 255, output: 'ssh: connect to host db1 port 22: Connection refused' },
      hostToHost,
    );
    expect(unreachable).toMatchObject({ code: 'HOST_UNREACHABLE', retryable: true });
    expect(rsyncFailureError({ exitCode: 255, output: 'Host key verification failed.' }, engine).code).toBe(
      'HOST_COMMAND_FAILED',
    );
  });
});

describe('toDvxError on ssh2 errors', () => {
  it('makes a refused channel open a retryable HOST_CONNECTION_LOST', () => {
    expect(toDvxError(new Error('(SSH) Channel open failure: open failed'), { host: 'db1' })).toMatchObject({
      code: 'HOST_CONNECTION_LOST',
      retryable: true,
    });
  });
});

describe('CommandFailedError', () => {
  it('keeps exit code and whole output as fields, and the tail of each stream in its output', () => {
    const stdout = `${'a'.repeat(20_000)}END-OUT`;
    const error = new CommandFailedError({ host: 'db1', exitCode: 7, stdout, stderr: 'first\nlast line\n' });
    expect(error).toMatchObject({
      code: 'HOST_COMMAND_FAILED',
      retryable: false,
      exitCode: 7,
      stdout,
      stderr: 'first\nlast line\n',
    });
    expect(error.message).toBe('The script failed on db1 with exit code 7: last line.');
    expect(error.output).toMatch(/^stdout:\n\[\.\.\.\]a+END-OUT\nstderr:\nfirst\nlast line\n$/);
    expect(must(error.output, 'error.output').length).toBeLessThan(stdout.length);
  });
});

describe('startDeadline', () => {
  const timeoutError = (ms: number) => new HostError({ code: 'HOST_TIMEOUT', message: `after ${ms}` });

  it('aborts with the timeout error once the time is up', async () => {
    const deadline = startDeadline({ timeoutMs: 20, timeoutError, what: 'A command' });
    await new Promise((resolve) => deadline.signal.addEventListener('abort', resolve));
    expect(deadline.signal.reason).toMatchObject({ code: 'HOST_TIMEOUT', message: 'after 20' });
    deadline.dispose();
  });

  it("aborts with RUN_CANCELLED, or with the caller's own DvxError reason", () => {
    const caller = new AbortController();
    const deadline = startDeadline({
      signal: caller.signal,
      timeoutMs: 60_000,
      timeoutError,
      what: 'A command on db1',
      details: { host: 'db1' },
    });
    caller.abort('user');
    expect(deadline.signal.reason).toMatchObject({
      code: 'RUN_CANCELLED',
      message: 'A command on db1 was cancelled.',
      details: { host: 'db1' },
    });
    deadline.dispose();
    const reason = new DvxError({ code: 'STEP_DEADLINE_EXCEEDED', message: 'stop' });
    const aborted = startDeadline({ signal: AbortSignal.abort(reason), timeoutError, what: 'x' });
    expect(aborted.signal.reason).toBe(reason);
  });

  it('stops listening once disposed', () => {
    const caller = new AbortController();
    const deadline = startDeadline({ signal: caller.signal, timeoutMs: 10, timeoutError, what: 'x' });
    deadline.dispose();
    caller.abort();
    expect(deadline.signal.aborted).toBe(false);
  });
});
