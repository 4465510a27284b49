import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { waitForRun } from '../../cli/wait-for-run.js';
import { createLogger } from '../../log/logger.js';
import { localMountPoints } from '../../storage/local-mounts.js';
import { waitFor } from '../harness/wait-for.js';
import { startEngineFixture, type EngineFixture } from './engine-fixture.js';
import { setUpDsource } from './fixture-setup.js';
import { must } from '../harness/must.js';
import { stringMatching } from '../harness/matchers.js';

const execFileAsync = promisify(execFile);
let engine: EngineFixture;
let dsourceId: string;
let targetEnvironment: string;
let token: string;
const logLines: string[] = [];

/** The real `dvx` command (bin/dvx.js on the compiled engine) against the fixture's engine. */
async function dvx(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [
      'bin/dvx.js',
      '--engine',
      engine.runtime.url,
      '--token',
      token,
      ...args,
    ]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

async function snapshotState() {
  const { model } = engine.runtime.ctx;
  return {
    vdbs: (await model.vdbs.list()).map((vdb) => vdb.id).sort(),
    datasets: (await readdir(join(engine.storage.root, 'datasets'))).sort(),
    runs: (await model.runs.list({ limit: 1000 })).length,
  };
}

beforeAll(async () => {
  const logs = new PassThrough();
  logs.on('data', (chunk: Buffer) => logLines.push(chunk.toString('utf8')));
  engine = await startEngineFixture({
    retryDeadlineMs: 120_000,
    logger: createLogger({ level: 'debug', destination: logs }),
  });
  token = (await readFile(join(engine.runtime.dataDir, 'admin.token'), 'utf8')).trim();
  const setUp = await setUpDsource(engine, 'fail-ds', { secret: 'hunter2-is-a-secret' });
  dsourceId = setUp.dsourceId;
  targetEnvironment = must(setUp.environments[2], 'setUp.environments[2]');
}, 180_000);
afterAll(async () => engine?.stop(), 120_000);

describe('failure paths', () => {
  it('a UserError in configure fails the provision, leaves no clone or mount, and `dvx run show` shows its message and action', async () => {
    const before = await snapshotState();
    const mountPath = join(engine.dir, 'mnt', 'refused');
    const answer = await engine.client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
      name: 'refused',
      source: dsourceId,
      environment: targetEnvironment,
      parameters: { mountLocation: mountPath, failConfigure: true },
    });
    const run = await waitForRun(engine.client, answer.run.id, { stream: null });
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({
      code: 'PLUGIN_USER_ERROR',
      message: 'The fixture refuses to configure this VDB.',
      action: 'Provision it without failConfigure.',
    });
    // The undo chain ran: unmounted, clone destroyed.
    expect((await localMountPoints()).includes(mountPath)).toBe(false);
    expect((await readdir(join(engine.storage.root, 'datasets'))).sort()).toEqual(before.datasets);
    // A failed create leaves no object behind: only its run, with the error.
    expect(await engine.runtime.ctx.model.vdbs.get(answer.vdb.id)).toBeNull();

    const shown = await dvx('run', 'show', answer.run.id);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('The fixture refuses to configure this VDB.');
    expect(shown.stdout).toContain('Provision it without failConfigure.');
    expect(shown.stdout).toContain('configure: refused by parameter');
  });

  it('a target host stopped mid-provision makes the run wait, and it finishes once the host is back', async () => {
    const target = must(engine.ssh.hosts[2], 'engine.ssh.hosts[2]');
    await target.stop();
    const mountPath = join(engine.dir, 'mnt', 'patient');
    const answer = await engine.client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
      name: 'patient',
      source: dsourceId,
      environment: targetEnvironment,
      parameters: { mountLocation: mountPath },
    });
    // The attach step keeps retrying while the host is down.
    await waitFor(
      'the attach step to retry',
      async () => {
        const detail = await engine.runtime.ctx.model.runs.detail(answer.run.id);
        const attach = detail?.steps.find((step) => step.stepId === 'attach');
        return attach && attach.attempts.length >= 2 ? attach : null;
      },
      60_000,
    );
    expect(must(await engine.runtime.ctx.model.runs.get(answer.run.id), 'the run').status).toBe('running');
    await target.start();
    const run = await waitForRun(engine.client, answer.run.id, { stream: null });
    expect(run.status).toBe('succeeded');
    const attach = must(
      run.steps.find((step) => step.stepId === 'attach'),
      'the attach step',
    );
    expect(attach.attempts.slice(0, -1).every((attempt) => attempt.error?.code === 'HOST_UNREACHABLE')).toBe(true);
    expect((await localMountPoints()).includes(mountPath)).toBe(true);
    expect(existsSync(join(mountPath, 'a.txt'))).toBe(true);
  });

  it('bad CLI input gets a clear error and changes nothing', async () => {
    const before = await snapshotState();
    const cases: Array<[string[], RegExp]> = [
      [
        [
          'vdb',
          'provision',
          'x1',
          '--from',
          'no-such-dsource',
          '--env',
          targetEnvironment,
          '--parameters',
          '{"mountLocation":"/tmp/x1"}',
        ],
        /No dSource or VDB "no-such-dsource"/,
      ],
      [
        ['vdb', 'provision', 'x2', '--from', dsourceId, '--env', targetEnvironment, '--parameters', '{bad json'],
        /--parameters is not valid JSON/,
      ],
      [
        [
          'vdb',
          'provision',
          'x3',
          '--from',
          dsourceId,
          '--env',
          targetEnvironment,
          '--parameters',
          '{"mountLocation":"/tmp/x3","failConfigure":"yes"}',
        ],
        /\/parameters\/failConfigure must be boolean/,
      ],
      [
        ['vdb', 'provision', 'x4', '--from', dsourceId, '--env', targetEnvironment, '--parameters', '{}'],
        /\/parameters\/mountLocation is required/,
      ],
      [
        ['vdb', 'provision', 'bad name!', '--from', dsourceId, '--env', targetEnvironment],
        /VDB name "bad name!" is not allowed/,
      ],
      [['dsource', 'rm', dsourceId], /cannot be deleted: VDB "patient"/],
      [['vdb', 'rewind', 'patient', '--snapshot', 'snap-nope'], /has no snapshot "snap-nope"/],
      [['env', 'add', 'e1', 'not-a-target'], /is not USER@HOST\[:PORT\]/],
      [['run', 'list', '--status', 'weird'], /Unknown status "weird"/],
    ];
    for (const [args, message] of cases) {
      const result = await dvx(...args);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
    expect(await snapshotState()).toEqual(before);
  });

  it("keeps the secret given at link time and the hosts' private keys out of Redis, logs and API answers", async () => {
    const redis = engine.redis.client();
    const keys = await redis.keys('*');
    for (const key of keys) {
      const type = await redis.type(key);
      const dumped =
        type === 'string'
          ? await redis.get(key)
          : type === 'hash'
            ? await redis.hgetall(key)
            : type === 'list'
              ? await redis.lrange(key, 0, -1)
              : type === 'set'
                ? await redis.smembers(key)
                : type === 'zset'
                  ? await redis.zrange(key, '0', '-1')
                  : type === 'stream'
                    ? await redis.xrange(key, '-', '+')
                    : null;
      const text = JSON.stringify(dumped);
      expect(text ?? '', key).not.toContain('hunter2-is-a-secret');
    }
    const shown = await engine.client.get<{ dsource: { parameters: Record<string, unknown> } }>(
      `/dsources/${dsourceId}`,
    );
    expect(shown.dsource.parameters.secret).toBe('[redacted]');
    // Every log line of the whole suite, at debug level.
    const keyBody = must(engine.tourHost(0).privateKey.split('\n')[2], 'the key body');
    expect(logLines.length).toBeGreaterThan(20);
    const allLogs = logLines.join('');
    expect(allLogs).not.toContain('hunter2-is-a-secret');
    expect(allLogs).not.toContain(keyBody);
    const environments = JSON.stringify(await engine.client.get('/environments'));
    expect(environments).not.toContain(keyBody);
    redis.disconnect();
  });

  it('logs structured JSON lines that carry the run, step, object and operation id of each step', () => {
    const lines = logLines
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    // The UserError in configure of the first test, as an operator finds it in the log.
    const failed = lines.find((line) => line.msg === 'step failed' && line.step === 'configure');
    expect(failed).toMatchObject({
      runId: stringMatching(/^run-/),
      step: 'configure',
      objectId: stringMatching(/^vdb-/),
      operationId: expect.any(String) as string,
      src: 'plugin.virtual.configure',
    });
    expect((must(failed, 'failed').err as { code?: string }).code).toBe('PLUGIN_USER_ERROR');
  });
});
