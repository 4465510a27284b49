import { describe, expect, it } from 'vitest';
import { DvxError, HostError, toDvxError, ValidationError } from '../../errors/index.js';

describe('DvxError', () => {
  it('round-trips through JSON with code, retryable flag, action and output', () => {
    const error = new HostError({
      code: 'HOST_UNREACHABLE',
      host: 'db1',
      message: 'down',
      action: 'wait',
      output: 'stderr text',
    });
    const copy = DvxError.fromJSON(JSON.parse(JSON.stringify(error)));
    expect(copy).toBeInstanceOf(DvxError);
    expect(copy).toMatchObject({
      code: 'HOST_UNREACHABLE',
      retryable: true,
      message: 'down',
      action: 'wait',
      output: 'stderr text',
      name: 'HostError',
    });
    expect(copy.details).toEqual({ host: 'db1' });
  });

  it('is recognised by instanceof across copies through its brand', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('dvx.error')]: true });
    expect(foreign instanceof DvxError).toBe(true);
    expect(new Error('plain') instanceof DvxError).toBe(false);
    expect(new ValidationError('bad', []) instanceof HostError).toBe(false);
  });

  it('maps unknown JSON to an INTERNAL error instead of throwing', () => {
    expect(DvxError.fromJSON({ code: 'NOPE', message: 7 })).toMatchObject({
      code: 'INTERNAL',
      message: 'Unknown error',
      retryable: false,
    });
  });
});

describe('toDvxError', () => {
  it.each([
    [{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, 'HOST_UNREACHABLE', true],
    [{ code: 'ECONNRESET', message: 'read ECONNRESET' }, 'HOST_CONNECTION_LOST', true],
    [
      { level: 'client-authentication', message: 'All configured authentication methods failed' },
      'HOST_AUTH_FAILED',
      false,
    ],
    [{ level: 'client-timeout', message: 'Timed out while waiting for handshake' }, 'HOST_TIMEOUT', true],
    [{ code: 'ENOSPC', message: 'no space' }, 'STORAGE_NO_SPACE', false],
    [
      { name: 'MaxRetriesPerRequestError', message: 'Reached the max retries per request limit' },
      'REDIS_UNAVAILABLE',
      true,
    ],
    [{ message: 'something odd' }, 'INTERNAL', false],
  ])('maps %o to %s', (raw, code, retryable) => {
    const error = toDvxError(Object.assign(new Error(raw.message), raw), { host: 'h1' });
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(retryable);
  });
});
