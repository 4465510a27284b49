import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../harness/free-port.js';
import { must } from '../harness/must.js';
import { startRedisServer, type TestRedis } from '../harness/redis-server.js';
import { makeTempDir } from '../harness/temp-dir.js';
import { waitFor } from '../harness/wait-for.js';

const DVX = fileURLToPath(new URL('../toolchain/dvx-from-sources.ts', import.meta.url));

/** `dvx ARGS` from sources; stdout and stderr apart. */
function dvx(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', DVX, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exit, stdout: () => stdout, stderr: () => stderr };
}

interface HealthBody {
  status: string;
  dependencies?: Record<string, { status: string; error?: string }>;
}

async function health(url: string): Promise<{ code: number; body: HealthBody }> {
  const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(15_000) });
  return { code: response.status, body: (await response.json()) as HealthBody };
}

/** The outage lasts this long at least: some seconds, as when Redis is restarted by hand. */
const OUTAGE_MS = 8_000;
const cleanups: (() => Promise<unknown>)[] = [];
let redis: TestRedis;
let engine: ReturnType<typeof dvx>;
let url: string;
let token: string;
let client: string[];
let outageStarted = 0;
let linesBefore = 0;
let linesDuringOutage = 0;

beforeAll(async () => {
  const temp = await makeTempDir('redis-outage');
  cleanups.push(() => temp.remove());
  redis = await startRedisServer();
  cleanups.push(() => redis.remove());
  const dataDir = join(temp.path, 'data');
  expect(await dvx(['--data-dir', dataDir, 'storage', 'init', '--backend', 'reflink']).exit).toBe(0);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  engine = dvx(['--data-dir', dataDir, 'engine', 'start', '--redis', redis.url, '--listen', `127.0.0.1:${port}`]);
  cleanups.push(async () => engine.child.exitCode === null && engine.child.kill('SIGKILL'));
  await waitFor(
    'the engine to answer /health',
    async () => (await health(url).catch(() => null))?.code === 200,
    60_000,
    200,
  );
  token = (await readFile(join(dataDir, 'admin.token'), 'utf8')).trim();
  client = ['--data-dir', dataDir, '--engine', url, '--token', token];
}, 120_000);
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}, 60_000);

describe('an engine on a Redis that goes down for some seconds', () => {
  it('reports each dependency in /health: 200 and status ok while all are up', async () => {
    const up = await health(url);
    expect(up.code).toBe(200);
    expect(up.body.status).toBe('ok');
    expect(Object.keys(up.body.dependencies ?? {}).sort()).toEqual(['redis', 'storage', 'workers']);
    expect(Object.values(up.body.dependencies ?? {}).map((dependency) => dependency.status)).toEqual([
      'up',
      'up',
      'up',
    ]);
  });

  it('answers /health with 503 naming Redis while it is down', async () => {
    linesBefore = engine.stderr().split('\n').length;
    await redis.kill();
    outageStarted = Date.now();
    const down = await waitFor(
      '/health to answer 503',
      async () => {
        const answer = await health(url);
        return answer.code === 503 ? answer : null;
      },
      10_000,
    );
    expect(down.body.status).toBe('unavailable');
    expect(down.body.dependencies?.redis?.status).toBe('down');
    expect(down.body.dependencies?.storage?.status).toBe('up');
  }, 30_000);

  it('refuses requests with 503 REDIS_UNAVAILABLE (no hang), and the CLI prints it and exits non-zero', async () => {
    // fetch gives up after 15 s: a request left hanging fails the test.
    const refused = await fetch(`${url}/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'viewer', name: 'made-during-outage' }),
      signal: AbortSignal.timeout(15_000),
    });
    expect(refused.status).toBe(503);
    const { error } = (await refused.json()) as {
      error: { code: string; retryable: boolean; message: string; action?: string };
    };
    expect(error).toMatchObject({ code: 'REDIS_UNAVAILABLE', retryable: true });
    expect(error.message).toContain('Redis');
    expect(error.action).toContain(`127.0.0.1:${redis.port}`);

    for (const args of [
      ['vdb', 'list'],
      ['vdb', 'snapshot', 'any-vdb'],
    ]) {
      const command = dvx([...client, ...args]);
      const code = await Promise.race([
        command.exit,
        new Promise((resolve) => setTimeout(() => resolve('still running after 30 s'), 30_000)),
      ]);
      if (command.child.exitCode === null) command.child.kill('SIGKILL');
      expect(code, command.stderr()).toBe(1);
      expect(command.stderr()).toContain('REDIS_UNAVAILABLE');
      expect(command.stderr()).toContain('what to do:');
    }
  }, 120_000);

  it('has accepted nothing of what it refused once Redis is back, and serves again by itself', async () => {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - outageStarted))));
    linesDuringOutage = engine.stderr().split('\n').length - linesBefore;
    await redis.start();
    const tokenNames = () =>
      waitFor('the engine to serve requests again', async () => {
        const response = await fetch(`${url}/tokens`, {
          headers: { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(5_000),
        });
        return response.ok
          ? ((await response.json()) as { tokens: { name: string }[] }).tokens.map((t) => t.name)
          : null;
      });
    expect(await tokenNames()).not.toContain('made-during-outage');
    // Nor later: a request held while Redis was down would be carried out once it is back.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await tokenNames()).not.toContain('made-during-outage');
    expect((await health(url)).code).toBe(200);
  }, 60_000);

  it('refuses requests with 503 while Redis is connected but stopped (SIGSTOP), and serves again once it resumes', async () => {
    const pid = must(redis.pid(), 'redis.pid()');
    process.kill(pid, 'SIGSTOP');
    try {
      // The heartbeat finds a PING unanswered for 3 s; /health's probe gives up after 2 s.
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      const refused = await fetch(`${url}/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ role: 'viewer', name: 'made-while-stopped' }),
        signal: AbortSignal.timeout(10_000),
      });
      expect(refused.status).toBe(503);
      const { error } = (await refused.json()) as { error: { code: string; message: string; action?: string } };
      expect(error.code).toBe('REDIS_UNAVAILABLE');
      expect(error.message).toMatch(/not answering for \d+ s/);
      expect(error.action).toContain('kill -CONT');
      const down = await health(url);
      expect(down.code).toBe(503);
      expect(down.body.dependencies?.redis?.status).toBe('down');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor('the engine to serve again', async () => (await health(url)).code === 200);
    const response = await fetch(`${url}/tokens`, { headers: { authorization: `Bearer ${token}` } });
    const names = ((await response.json()) as { tokens: { name: string }[] }).tokens.map((t) => t.name);
    expect(names).not.toContain('made-while-stopped');
  }, 60_000);

  it('logs JSON lines only, and a bounded number of them during the outage', async () => {
    engine.child.kill('SIGTERM');
    expect(await engine.exit).toBe(0);
    // stdout: the one banner line; stderr: the JSON log.
    expect(engine.stdout().trim().split('\n')).toEqual([expect.stringContaining('dvx engine running')]);
    const notJson = engine
      .stderr()
      .split('\n')
      .filter((line) => line !== '')
      .filter((line) => {
        try {
          return typeof JSON.parse(line) !== 'object';
        } catch {
          return true;
        }
      });
    expect(notJson.slice(0, 10)).toEqual([]);
    // Seven kinds of connection complaint, each at most 3 times and one count per 10 s, and the refused requests.
    expect(linesDuringOutage, engine.stderr()).toBeLessThanOrEqual(50);
  }, 60_000);
});
