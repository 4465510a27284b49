// A VDB's (or dSource's) mount path is refused when the request comes if it is not absolute and normalised, holds
// control characters, names a system directory or a directory on the host that already holds files: 400 naming the
// field, and nothing created.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ValidationIssue } from '../../errors/validation-error.js';
import { must } from '../harness/must.js';
import { startEngineFixture, type EngineFixture } from './engine-fixture.js';
import { refused, setUpDsource, succeeded } from './fixture-setup.js';

const execFileAsync = promisify(execFile);
let engine: EngineFixture;
let dsourceId: string;
let target: string;

beforeAll(async () => {
  engine = await startEngineFixture({ retryDeadlineMs: 10_000 });
  const setUp = await setUpDsource(engine, 'paths-ds');
  dsourceId = setUp.dsourceId;
  target = must(setUp.environments[2], 'environments[2]');
}, 240_000);

afterAll(async () => engine?.stop(), 120_000);

const BAD = [
  ['/etc', /system directory \/etc/],
  ['/', /system directory \//],
  ['/usr', /system directory/],
  ['/var/lib', /system directory/],
  ['/lib64', /system directory/],
  ['/proc/self', /system directory/],
  ['relative/dir', /must be an absolute path/],
  ['/srv/a/../b', /must be a normalised path/],
  ['/srv//b', /must be a normalised path/],
  ['/srv/b/', /must be a normalised path/],
  ['/srv/a\nb', /control characters/],
  ['/srv/a\u202eb', /bidirectional overrides/],
] as const;

function issuesOf(error: unknown): ValidationIssue[] {
  return (error as { details?: { issues?: ValidationIssue[] } }).details?.issues ?? [];
}

describe('mount paths', () => {
  it('are refused with 400 naming the field when a VDB is provisioned or a dSource linked; nothing is created', async () => {
    const { model } = engine.runtime.ctx;
    const before = { vdbs: (await model.vdbs.list()).length, dsources: (await model.dsources.list()).length };
    const runsBefore = (await model.runs.list({ limit: 1000 })).length;
    for (const [path, message] of BAD) {
      const vdb = await refused(
        engine.client.post('/vdbs', {
          name: 'paths-vdb',
          source: dsourceId,
          environment: target,
          parameters: { mountLocation: path },
        }),
      );
      expect(vdb.code, path).toBe('VALIDATION_FAILED');
      expect(issuesOf(vdb), path).toEqual([
        { pointer: '/parameters/mountLocation', message: expect.stringMatching(message) as string },
      ]);
      const dsource = await refused(
        engine.client.post('/dsources', {
          name: 'paths-ds-2',
          sourceConfig: must((await model.sourceConfigs.list())[0], 'a source config').id,
          stagingEnvironment: target,
          parameters: { mountLocation: path },
        }),
      );
      expect(dsource.code, path).toBe('VALIDATION_FAILED');
      expect(issuesOf(dsource)[0]?.pointer, path).toBe('/parameters/mountLocation');
    }
    expect((await model.vdbs.list()).length).toBe(before.vdbs);
    expect((await model.dsources.list()).length).toBe(before.dsources);
    expect((await model.runs.list({ limit: 1000 })).length).toBe(runsBefore);
  }, 60_000);

  it('of a directory that already holds files are refused with 400 naming the field; the files stay visible', async () => {
    const { model } = engine.runtime.ctx;
    const busy = join(engine.dir, 'mnt', 'holds-files');
    await mkdir(busy, { recursive: true });
    await writeFile(join(busy, 'keep.txt'), 'mine\n');
    const runsBefore = (await model.runs.list({ limit: 1000 })).length;
    const error = await refused(
      engine.client.post('/vdbs', {
        name: 'paths-busy',
        source: dsourceId,
        environment: target,
        parameters: { mountLocation: busy },
      }),
    );
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(issuesOf(error)).toEqual([
      { pointer: '/parameters/mountLocation', message: 'is a directory that already holds files' },
    ]);
    expect(await model.vdbs.find('paths-busy')).toBeNull();
    expect((await model.runs.list({ limit: 1000 })).length).toBe(runsBefore);
    expect(await readFile(join(busy, 'keep.txt'), 'utf8')).toBe('mine\n');
    await expect(execFileAsync('mountpoint', ['-q', busy])).rejects.toThrow();

    // A new directory, or an empty one, is fine.
    const empty = join(engine.dir, 'mnt', 'empty');
    await mkdir(empty, { recursive: true });
    for (const [name, mountLocation] of [
      ['paths-fresh', join(engine.dir, 'mnt', 'fresh')],
      ['paths-empty', empty],
    ])
      await succeeded(
        engine,
        await engine.client.post<{ run: { id: string } }>('/vdbs', {
          name,
          source: dsourceId,
          environment: target,
          parameters: { mountLocation },
        }),
      );
  }, 120_000);

  it('source config names refuse control characters and bidirectional overrides; nothing is created', async () => {
    const { model } = engine.runtime.ctx;
    const repository = must((await model.repositories.list())[0], 'a repository').id;
    const before = (await model.sourceConfigs.list()).length;
    for (const name of ['orders\u202etxt', 'two\nlines', 'esc\u001b[2J']) {
      const error = await refused(
        engine.client.post('/sourceconfigs', { repository, parameters: { name, path: '/srv/orders' } }),
      );
      expect(error.code, name).toBe('VALIDATION_FAILED');
      expect(issuesOf(error)[0]?.pointer, name).toBe('/parameters/name');
    }
    expect((await model.sourceConfigs.list()).length).toBe(before);
  });
});
