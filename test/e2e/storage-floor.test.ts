// A pool whose free space is below its floor (5% by default) refuses what would make a new snapshot or clone in it
// (provision, VDB snapshot, rewind, refresh, dSource sync) at request time with 507 STORAGE_FREE_SPACE_LOW, creating
// nothing; a step that would make one checks again (the pool can fill after the request). /health, /metrics and
// `dvx storage status` show it. Freeing space makes everything work again.
import { execFile } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_FILE } from '../../cli/engine-client.js';
import { waitForRun } from '../../cli/wait-for-run.js';
import type { SerializedError } from '../../errors/index.js';
import { PoolSpace } from '../../storage/index.js';
import { localMountPoints } from '../../storage/local-mounts.js';
import { must } from '../harness/must.js';
import { waitFor } from '../harness/wait-for.js';
import { startEngineFixture, type EngineFixture } from './engine-fixture.js';
import { dvx, setUpDsource, succeeded } from './fixture-setup.js';

const execFileAsync = promisify(execFile);
const MiB = 1024 ** 2;

let engine: EngineFixture;
let token: string;
let dsourceId: string;
let target: string;
let vdbId: string;
const vdbMount = () => join(engine.dir, 'mnt', 'floor-vdb');

beforeAll(async () => {
  engine = await startEngineFixture({ poolSizeBytes: 512 * MiB, retryDeadlineMs: 10_000 });
  token = (await readFile(join(engine.runtime.dataDir, ADMIN_TOKEN_FILE), 'utf8')).trim();
  const setUp = await setUpDsource(engine, 'floor-ds');
  dsourceId = setUp.dsourceId;
  target = must(setUp.environments[2], 'environments[2]');
  const answer = await engine.client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
    name: 'floor-vdb',
    source: dsourceId,
    environment: target,
    parameters: { mountLocation: vdbMount() },
  });
  await succeeded(engine, answer);
  vdbId = answer.vdb.id;
}, 240_000);

afterAll(async () => engine?.stop(), 120_000);

/** What statfs says of the pool, once btrfs has cleaned deleted subvolumes up and committed what was written. */
async function space() {
  await execFileAsync('btrfs', ['subvolume', 'sync', engine.storage.root]);
  await execFileAsync('btrfs', ['filesystem', 'sync', engine.storage.root]);
  return new PoolSpace(engine.storage).report();
}

/** Waits until the pool's free space stops changing (btrfs frees a deleted file's extents over several commits). */
async function settled() {
  let last = -1;
  return waitFor(
    "the pool's free space to settle",
    async () => {
      const now = await space();
      const same = now.freeBytes === last;
      last = now.freeBytes;
      return same ? now : null;
    },
    60_000,
    500,
  );
}

/** Fills the pool with one file until it is 8 MiB below its floor; returns its path. */
async function fill(path = join(engine.storage.root, 'fill')): Promise<string> {
  const now = await settled();
  expect(now.belowFloor).toBe(false);
  await execFileAsync('fallocate', ['-l', String(now.freeBytes - now.floorBytes + 8 * MiB), path]);
  expect((await space()).belowFloor).toBe(true);
  return path;
}

/**
 * A hook script filling the pool through the object's mount until 1 MiB is left (measured on the host at that
 * moment, well below the 5% floor).
 */
const FILL_HOOK = String.raw`sync -f "$DVX_MOUNT_PATH"
free=$(( $(stat -f -c %a "$DVX_MOUNT_PATH") * $(stat -f -c %S "$DVX_MOUNT_PATH") ))
fallocate -l $(( free - 1048576 )) "$DVX_MOUNT_PATH/fill"`;

/** Deletes the fill file and waits for btrfs to give its space back. */
async function unfill(path: string): Promise<void> {
  await rm(path, { force: true });
  expect((await settled()).belowFloor).toBe(false);
}

/** A request's HTTP status and body, as a client other than dvx's sees it. */
async function send(method: string, path: string, body?: unknown) {
  const response = await fetch(`${engine.runtime.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(method === 'GET' ? {} : { 'content-type': 'application/json' }) },
    ...(method === 'GET' ? {} : { body: JSON.stringify(body ?? {}) }),
  });
  return { status: response.status, body: (await response.json()) as { error?: SerializedError } };
}

async function counts() {
  const { model } = engine.runtime.ctx;
  return {
    vdbs: (await model.vdbs.list()).length,
    dsources: (await model.dsources.list()).length,
    snapshots: (await model.snapshots.list()).length,
    runs: (await model.runs.list({ limit: 1000 })).length,
    datasets: (await readdir(join(engine.storage.root, 'datasets'))).length,
    subvolumeSnapshots: (await readdir(join(engine.storage.root, 'snapshots'))).length,
  };
}

describe('the free-space floor', () => {
  it('below it, provision, VDB snapshot, rewind, refresh, sync and link are refused with 507 saying what to delete; nothing is created; /health, /metrics and storage status show it; freeing space lifts it', async () => {
    const firstSnapshot = must(
      (await engine.client.get<{ snapshots: { id: string }[] }>(`/vdbs/${vdbId}/snapshots`)).snapshots[0],
      'a VDB snapshot',
    ).id;
    const sourceConfig = must((await engine.runtime.ctx.model.sourceConfigs.list())[0], 'a source config').id;
    const fillFile = await fill();
    const before = await counts();

    const requests: [string, string, unknown?][] = [
      [
        'POST',
        '/vdbs',
        {
          name: 'floor-vdb-2',
          source: dsourceId,
          environment: target,
          parameters: { mountLocation: vdbMount() + '-2' },
        },
      ],
      ['POST', `/vdbs/${vdbId}/snapshot`],
      ['POST', `/vdbs/${vdbId}/rewind`, { snapshot: firstSnapshot }],
      ['POST', `/vdbs/${vdbId}/refresh`],
      ['POST', `/dsources/${dsourceId}/sync`],
      [
        'POST',
        '/dsources',
        {
          name: 'floor-ds-2',
          sourceConfig,
          stagingEnvironment: target,
          parameters: { mountLocation: vdbMount() + '-ds' },
        },
      ],
    ];
    for (const [method, path, body] of requests) {
      const { status, body: answer } = await send(method, path, body);
      expect(status, path).toBe(507);
      const error = must(answer.error, 'an error');
      expect(error.code, path).toBe('STORAGE_FREE_SPACE_LOW');
      expect(error.retryable, path).toBe(false);
      expect(error.message, path).toMatch(
        /^The storage pool has \d+\.\d MiB free of 512\.0 MiB, below its floor of 25\.6 MiB \(5%\), so .* was refused; nothing was created\.$/,
      );
      expect(error.action, path).toContain('dvx snapshot rm');
      expect(error.action, path).toContain('dvx vdb rm');
      expect(error.action, path).toContain('dvx bookmark rm');
      expect(error.details, path).toMatchObject({ floor: '5%', floorBytes: expect.any(Number) as number });
    }
    expect(await counts()).toEqual(before);
    expect(await engine.runtime.ctx.model.vdbs.find('floor-vdb-2')).toBeNull();

    // The CLI prints it and exits non-zero.
    const cli = await dvx(engine, 'vdb', 'snapshot', 'floor-vdb');
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/error: The storage pool has .* below its floor/);
    expect(cli.stderr).toContain('code: STORAGE_FREE_SPACE_LOW');

    // /health: a warning (200, not 503), with the numbers.
    // (With a token: details are for token holders.)
    const report = await engine.client.get<{
      status: string;
      dependencies: { storage: { status: string; error: string; details: Record<string, unknown> } };
    }>('/health');
    expect(report.status).toBe('warning');
    expect(report.dependencies.storage).toMatchObject({
      status: 'warning',
      details: { backend: 'btrfs', belowFloor: true, floor: '5%' },
    });
    expect(report.dependencies.storage.error).toContain('below the floor');
    const details = report.dependencies.storage.details as { freeBytes: number; floorBytes: number };
    expect(details.freeBytes).toBeLessThan(details.floorBytes);

    // /metrics: free bytes beside the floor.
    const metrics = await (
      await fetch(`${engine.runtime.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })
    ).text();
    const gauge = (name: string) =>
      Number(must(new RegExp(`^${name}\\{backend="btrfs"\\} (\\d+)$`, 'm').exec(metrics)?.[1], name));
    expect(gauge('dvx_storage_pool_free_bytes')).toBeLessThan(gauge('dvx_storage_pool_floor_bytes'));

    // dvx storage status warns.
    const status = await dvx(engine, '--data-dir', engine.pool.dataDir, 'storage', 'status');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^floor\s+25\.6 MiB \(5%\) kept free$/m);
    expect(status.stdout).toMatch(/^warning\s+free space \(.*\) is below the floor: new provisions, snapshots/m);

    await unfill(fillFile);
    expect((await send('GET', '/health')).body).toMatchObject({ status: 'ok' });
    expect((await dvx(engine, '--data-dir', engine.pool.dataDir, 'storage', 'status')).stdout).not.toContain('warning');
    await succeeded(engine, await engine.client.post(`/vdbs/${vdbId}/snapshot`));
    await succeeded(engine, await engine.client.post(`/dsources/${dsourceId}/sync`));
    const second = await engine.client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
      name: 'floor-vdb-2',
      source: dsourceId,
      environment: target,
      parameters: { mountLocation: vdbMount() + '-2' },
    });
    await succeeded(engine, second);
    await succeeded(engine, await engine.client.delete(`/vdbs/${second.vdb.id}`));
  }, 180_000);

  it('a pool that fills after the request fails the snapshot step cleanly: no snapshot, the VDB as it was', async () => {
    const { model } = engine.runtime.ctx;
    expect((await settled()).belowFloor).toBe(false);
    // The hook runs on the VDB's host just before the storage snapshot, and fills the pool through the VDB.
    await engine.client.request('PUT', `/hooks/${vdbId}/preSnapshot`, { script: FILL_HOOK });
    const snapshots = (await model.snapshots.listBy('ownerId', vdbId)).length;
    const before = await counts();
    const answer = await engine.client.post<{ run: { id: string } }>(`/vdbs/${vdbId}/snapshot`);
    const run = await waitForRun(engine.client, answer.run.id, { stream: null });
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ code: 'STORAGE_FREE_SPACE_LOW', retryable: false });
    expect(run.error?.message).toMatch(/below its floor of 25\.6 MiB \(5%\), so snapshot snap-.* was refused/);
    const step = must(
      run.steps.find((candidate) => candidate.stepId === 'snapshot'),
      'the snapshot step',
    );
    expect(step.attempts).toHaveLength(1);
    expect((await model.snapshots.listBy('ownerId', vdbId)).length).toBe(snapshots);
    expect(await counts()).toMatchObject({ subvolumeSnapshots: before.subvolumeSnapshots });
    expect(await model.vdbs.require(vdbId)).toMatchObject({ status: 'READY', enabled: true });

    await engine.client.delete(`/hooks/${vdbId}/preSnapshot`);
    await unfill(join(vdbMount(), 'fill'));
    await succeeded(engine, await engine.client.post(`/vdbs/${vdbId}/snapshot`));
  }, 120_000);

  it('a pool that fills during a provision fails it cleanly: no VDB, clone or mount left, only its run', async () => {
    const { model } = engine.runtime.ctx;
    expect((await settled()).belowFloor).toBe(false);
    const before = await counts();
    const mountPath = join(engine.dir, 'mnt', 'floor-filled');
    // configureClone runs after the clone and before the VDB's first snapshot: the snapshot step finds the pool full.
    const answer = await engine.client.post<{ vdb: { id: string }; run: { id: string } }>('/vdbs', {
      name: 'floor-filled',
      source: dsourceId,
      environment: target,
      parameters: { mountLocation: mountPath },
      hooks: { configureClone: FILL_HOOK },
    });
    const run = await waitForRun(engine.client, answer.run.id, { stream: null });
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ code: 'STORAGE_FREE_SPACE_LOW' });
    expect(await model.vdbs.get(answer.vdb.id)).toBeNull();
    expect((await localMountPoints()).includes(mountPath)).toBe(false);
    expect(await counts()).toEqual({ ...before, runs: before.runs + 1 });
    // The clone (and the fill inside it) is gone: the space comes back.
    expect((await settled()).belowFloor).toBe(false);
  }, 120_000);
});
