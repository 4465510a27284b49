import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDvxError, type DvxError } from '../../errors/index.js';
import type { HostConnection } from '../../hosts/index.js';

/** What a conformance run needs: a connection to a host with bash and coreutils, and how to clean up after it. */
export interface HostConnectionFixture {
  connection: HostConnection;
  cleanup(): Promise<void>;
}

async function rejection(promise: Promise<unknown>): Promise<DvxError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isDvxError(error)) throw new Error(`expected a DvxError, got ${String(error)}`);
  return error;
}

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/**
 * The contract every HostConnection implementation fulfils. Run it from a `*.test.ts` file with a factory that
 * returns a fresh connection to a real host.
 */
export function describeHostConnectionConformance(name: string, factory: () => Promise<HostConnectionFixture>): void {
  describe(`HostConnection conformance: ${name}`, () => {
    let fixture: HostConnectionFixture;
    let connection: HostConnection;
    beforeAll(async () => {
      fixture = await factory();
      connection = fixture.connection;
    });
    afterAll(async () => {
      await fixture?.cleanup();
    });

    it('returns the exit code, stdout and stderr of a command separately', async () => {
      const result = await connection.exec('printf out; printf err >&2; exit 7');
      expect(result).toEqual({ exitCode: 7, stdout: 'out', stderr: 'err' });
    });

    it('reports a missing program as exit code 127 rather than an error', async () => {
      const result = await connection.exec('dvx-no-such-program-anywhere');
      expect(result.exitCode).toBe(127);
    });

    it('refuses a command that a csh or fish login shell would misread, with HOST_BAD_INPUT and without running it', async () => {
      for (const command of ["echo 'quoted'", 'echo back\\slash', 'echo bang!', 'echo one\necho two']) {
        const error = await rejection(connection.exec(command));
        expect(error.code).toBe('HOST_BAD_INPUT');
        expect(error.retryable).toBe(false);
      }
    });

    it('delivers stdin byte for byte, every byte value included', async () => {
      const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(200_000)]);
      const result = await connection.exec('sha256sum', { stdin: bytes });
      expect(result.stdout.split(' ')[0]).toBe(createHash('sha256').update(bytes).digest('hex'));
    });

    it('decodes UTF-8 output whole, even when characters straddle chunks', async () => {
      const result = await connection.exec('for i in $(seq 1 20000); do printf "é世🎉"; done');
      expect(result.stdout).toBe('é世🎉'.repeat(20_000));
    });

    it('runs concurrent commands independently', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => connection.exec(`echo ${i}; echo e${i} >&2; exit ${i % 5}`)),
      );
      results.forEach((result, i) => expect(result).toEqual({ exitCode: i % 5, stdout: `${i}\n`, stderr: `e${i}\n` }));
    });

    it('kills a command that outlives timeoutMs and fails with a retryable HOST_TIMEOUT', async () => {
      const error = await rejection(connection.exec('sleep 30', { timeoutMs: 300 }));
      expect(error.code).toBe('HOST_TIMEOUT');
      expect(error.retryable).toBe(true);
      expect((await connection.exec('echo still usable')).stdout).toBe('still usable\n');
    });

    it('kills a command when its signal aborts', async () => {
      const controller = new AbortController();
      const running = connection.exec('sleep 30', { signal: controller.signal });
      setTimeout(() => controller.abort(), 200);
      const error = await rejection(running);
      expect(error.code).toBe('RUN_CANCELLED');
    });

    it('spawns a command whose streams can be piped', async () => {
      const proc = await connection.spawn('cat; echo done >&2');
      const stdout = readAll(proc.stdout);
      const stderr = readAll(proc.stderr);
      proc.stdin.end('through the pipe\n');
      expect(await proc.exit).toBe(0);
      expect((await stdout).toString()).toBe('through the pipe\n');
      expect((await stderr).toString()).toBe('done\n');
    });

    it('ends a spawned command with kill()', async () => {
      const proc = await connection.spawn('sleep 30');
      proc.stdout.resume();
      proc.stderr.resume();
      proc.kill();
      expect(await proc.exit).toBeGreaterThan(128);
    });

    it('hands out the host key it verified', async () => {
      const key = await connection.hostKey();
      expect(key.key).toMatch(/^[a-z0-9-]+ [A-Za-z0-9+/]+=*$/);
      expect(key.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    });

    it('works again after close()', async () => {
      await connection.close();
      expect((await connection.exec('echo again')).stdout).toBe('again\n');
    });
  });
}
