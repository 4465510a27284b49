import { readFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../harness/free-port.js';
import { startRedisServer } from '../harness/redis-server.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { waitFor } from '../harness/wait-for.js';

const DVX = fileURLToPath(new URL('../toolchain/dvx-from-sources.ts', import.meta.url));
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function dvx(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(process.execPath, ['--import', 'tsx', DVX, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exit, output: () => output };
}

describe('dvx engine start', () => {
  it('serves the API until SIGTERM, then stops gracefully and exits by itself', async () => {
    const temp = await makeTempDir('engine-start');
    cleanups.push(() => temp.remove());
    const redis = await startRedisServer();
    cleanups.push(() => redis.remove());
    const dataDir = join(temp.path, 'data');
    expect(await dvx(['--data-dir', dataDir, 'storage', 'init', '--backend', 'reflink']).exit).toBe(0);

    const port = await freePort();
    const engine = dvx([
      '--data-dir',
      dataDir,
      'engine',
      'start',
      '--redis',
      redis.url,
      '--listen',
      `127.0.0.1:${port}`,
      '--log-level',
      'warn',
    ]);
    cleanups.push(async () => engine.child.exitCode === null && engine.child.kill('SIGKILL'));
    await waitFor(
      'the engine to answer /health',
      async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => null))?.ok || null,
      60_000,
      200,
    );

    // Every Redis client, worker, timer and socket it opened is closed: nothing keeps the process alive.
    engine.child.kill('SIGTERM');
    const code = await Promise.race([
      engine.exit,
      new Promise((resolve) => setTimeout(() => resolve('still running 30 s after SIGTERM'), 30_000)),
    ]);
    expect(code, engine.output()).toBe(0);
    expect(engine.output()).toContain('dvx engine running');
  }, 120_000);

  it('takes its free-space floor from --storage-floor or DVX_STORAGE_FLOOR: /health and storage status measure against it', async () => {
    const temp = await makeTempDir('engine-floor');
    cleanups.push(() => temp.remove());
    const redis = await startRedisServer();
    cleanups.push(() => redis.remove());
    const dataDir = join(temp.path, 'data');
    expect(await dvx(['--data-dir', dataDir, 'storage', 'init', '--backend', 'reflink']).exit).toBe(0);

    // A bad value is refused before anything starts, naming where it came from.
    const bad = dvx(['--data-dir', dataDir, 'engine', 'start', '--redis', redis.url], {
      ...process.env,
      DVX_STORAGE_FLOOR: 'lots',
    });
    expect(await bad.exit).not.toBe(0);
    expect(bad.output()).toContain('DVX_STORAGE_FLOOR "lots" is not a free-space floor');

    // 99% of the filesystem holding the data dir is more than is free there: the pool is below its floor. The option
    // wins over the variable.
    const port = await freePort();
    const floored = dvx(
      [
        '--data-dir',
        dataDir,
        'engine',
        'start',
        '--redis',
        redis.url,
        '--listen',
        `127.0.0.1:${port}`,
        '--storage-floor',
        '99%',
      ],
      { ...process.env, DVX_STORAGE_FLOOR: '1%', DVX_LOG_LEVEL: 'warn' },
    );
    cleanups.push(async () => floored.child.exitCode === null && floored.child.kill('SIGKILL'));
    const health = await waitFor(
      'the engine to answer /health',
      async () => {
        const answer = await fetch(`http://127.0.0.1:${port}/health`).catch(() => null);
        return answer ? { status: answer.status, body: (await answer.json()) as Record<string, unknown> } : null;
      },
      60_000,
      200,
    );
    expect(health.status).toBe(200);
    // Without a token: the state of each dependency, nothing of what the engine runs on.
    expect(health.body).toMatchObject({ status: 'warning', dependencies: { storage: { status: 'warning' } } });
    for (const dependency of Object.values(health.body.dependencies as Record<string, object>))
      expect(dependency).not.toHaveProperty('details');
    const token = (await readFile(join(dataDir, 'admin.token'), 'utf8')).trim();
    const withToken = await fetch(`http://127.0.0.1:${port}/health`, { headers: { authorization: `Bearer ${token}` } });
    expect(await withToken.json()).toMatchObject({
      status: 'warning',
      dependencies: { storage: { status: 'warning', details: { backend: 'reflink', floor: '99%', belowFloor: true } } },
    });
    const badToken = await fetch(`http://127.0.0.1:${port}/health`, { headers: { authorization: 'Bearer nope' } });
    expect(JSON.stringify(await badToken.json())).not.toContain('details');
    // `storage status` measures against the running engine's floor.
    const status = dvx(['--data-dir', dataDir, 'storage', 'status']);
    expect(await status.exit).toBe(0);
    expect(status.output()).toMatch(/^floor\s+.* \(99%\) kept free$/m);
    expect(status.output()).toMatch(/^warning\s+free space .* is below the floor/m);
    floored.child.kill('SIGTERM');
    expect(await floored.exit).toBe(0);
  }, 120_000);
});
