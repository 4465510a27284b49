import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { readEngineInfo } from '../../cli/engine-client.js';
import { ensureBackgroundEngine, stopBackgroundEngine } from '../../cli/quickstart/background-engine.js';
import { stopEmbeddedRedis } from '../../model/embedded-redis.js';
import { freePort } from '../harness/free-port.js';
import { makeTempDir } from '../harness/temp-dir.js';

const DVX = fileURLToPath(new URL('../toolchain/dvx-from-sources.ts', import.meta.url));
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Runs `dvx ARGS` from the sources with only `env` of the DVX_ variables set; output with whitespace collapsed. */
async function dvx(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('DVX_')));
  const child = spawn(process.execPath, ['--import', 'tsx', DVX, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...base, ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output: output.replace(/\s+/g, ' ') };
}

describe('--help shows the default in effect and the variable it comes from', () => {
  it('engine start and quickstart: --listen from DVX_LISTEN when it is set, the built-in one otherwise', async () => {
    for (const command of [['engine', 'start'], ['quickstart']]) {
      const set = await dvx([...command, '--help'], { DVX_LISTEN: '0.0.0.0:9911' });
      expect(set.code).toBe(0);
      expect(set.output).toContain(
        '--listen <host:port> where the API listens (default: "0.0.0.0:9911", from $DVX_LISTEN)',
      );
      const unset = await dvx([...command, '--help']);
      expect(unset.output).toContain(
        '--listen <host:port> where the API listens (default: "127.0.0.1:7433"; $DVX_LISTEN sets another)',
      );
    }
  });

  it('engine start: --log-level and --redis, without the password of the Redis URL', async () => {
    const set = await dvx(['engine', 'start', '--help'], {
      DVX_LOG_LEVEL: 'debug',
      DVX_REDIS_URL: 'redis://:hunter2secret@redis.example:6380/3',
    });
    expect(set.output).toContain('(default: "debug", from $DVX_LOG_LEVEL)');
    expect(set.output).toContain('(default: redis://redis.example:6380/3, from $DVX_REDIS_URL)');
    expect(set.output).not.toContain('hunter2secret');
    const unset = await dvx(['engine', 'start', '--help']);
    expect(unset.output).toContain('(default: "info"; $DVX_LOG_LEVEL sets another)');
    expect(unset.output).toContain('(default: the embedded Redis of the data dir; $DVX_REDIS_URL sets another)');
  });

  it('dvx: --data-dir and --engine as set, --token only as set', async () => {
    const set = await dvx(['--help'], {
      DVX_DATA_DIR: '/srv/dvx-data',
      DVX_ENGINE_URL: 'http://10.0.0.5:7433',
      DVX_TOKEN: 'dvx_secret_token_value',
    });
    expect(set.output).toContain('(default: "/srv/dvx-data", from $DVX_DATA_DIR)');
    expect(set.output).toContain('(default: "http://10.0.0.5:7433", from $DVX_ENGINE_URL)');
    expect(set.output).toContain('(default: from $DVX_TOKEN, which is set)');
    expect(set.output).not.toContain('dvx_secret_token_value');
  });
});

describe('dvx quickstart --listen', () => {
  it('refuses an address that is not HOST:PORT before starting anything', async () => {
    const temp = await makeTempDir('qs-listen');
    cleanups.push(() => temp.remove());
    const dataDir = join(temp.path, 'data');
    const answer = await dvx(['--data-dir', dataDir, 'quickstart', '--listen', 'localhost:http']);
    expect(answer.code).not.toBe(0);
    expect(answer.output).toContain('--listen "localhost:http" is not HOST:PORT or PORT.');
    await expect(access(dataDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('starts its background engine on the address given', async () => {
    const temp = await makeTempDir('qs-listen');
    cleanups.push(() => temp.remove());
    const dataDir = join(temp.path, 'data');
    expect((await dvx(['--data-dir', dataDir, 'storage', 'init', '--backend', 'reflink'])).code).toBe(0);
    const port = await freePort();
    cleanups.push(() => stopEmbeddedRedis(dataDir));
    cleanups.push(() => stopBackgroundEngine(dataDir));
    const engine = await ensureBackgroundEngine(dataDir, { listen: `127.0.0.1:${port}` });
    expect(engine.started).toBe(true);
    expect(engine.info.url).toBe(`http://127.0.0.1:${port}`);
    expect((await readEngineInfo(dataDir))?.url).toBe(`http://127.0.0.1:${port}`);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
  }, 180_000);
});
