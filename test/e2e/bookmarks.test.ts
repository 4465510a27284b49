import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngineFixture, type EngineFixture } from './engine-fixture.js';
import { dvx, refused, setUpDsource, snapshotsOf, succeeded } from './fixture-setup.js';
import { must } from '../harness/must.js';

interface BookmarkView {
  id: string;
  name: string;
  snapshotId: string;
  ownerName: string;
  expiresAt: string | null;
}

let engine: EngineFixture;
let dsourceId: string;
let environments: string[];

beforeAll(async () => {
  engine = await startEngineFixture();
  ({ dsourceId, environments } = await setUpDsource(engine, 'bm-ds'));
}, 240_000);
afterAll(async () => engine?.stop(), 120_000);

describe('bookmarks', () => {
  it('provision accepts a bookmark name in place of a snapshot id', async () => {
    await succeeded(engine, await engine.client.post(`/dsources/${dsourceId}/sync`, {}));
    const [first, second] = await snapshotsOf(engine, dsourceId);
    const { bookmark } = await engine.client.post<{ bookmark: BookmarkView }>('/bookmarks', {
      name: 'golden',
      snapshot: must(first, 'first').id,
    });
    expect(bookmark).toMatchObject({
      name: 'golden',
      snapshotId: must(first, 'first').id,
      ownerName: 'bm-ds',
      expiresAt: null,
    });
    const provision = await engine.client.post<{
      vdb: { id: string; provisionedFromSnapshotId: string };
      run: { id: string };
    }>('/vdbs', {
      name: 'bm-vdb',
      source: dsourceId,
      snapshot: 'golden',
      environment: environments[2],
      parameters: { mountLocation: join(engine.dir, 'mnt', 'bm-vdb') },
    });
    expect(provision.vdb.provisionedFromSnapshotId).toBe(must(first, 'first').id);
    expect(provision.vdb.provisionedFromSnapshotId).not.toBe(must(second, 'second').id);
    await succeeded(engine, provision);
    // A bookmark of another object's snapshot is refused like a wrong snapshot id.
    const wrong = await refused(
      engine.client.post('/vdbs', {
        name: 'bm-wrong',
        source: 'bm-vdb',
        snapshot: 'golden',
        environment: environments[2],
        parameters: { mountLocation: join(engine.dir, 'mnt', 'bm-wrong') },
      }),
    );
    expect(wrong).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('rewind and refresh accept a bookmark name', async () => {
    const [vdbFirst] = await snapshotsOf(engine, 'bm-vdb');
    await succeeded(engine, await engine.client.post('/vdbs/bm-vdb/snapshot'));
    await engine.client.post('/bookmarks', {
      name: 'vdb-start',
      snapshot: must(vdbFirst, 'vdbFirst').id,
      expires: '7d',
    });
    const rewind = await engine.client.post<{ run: { id: string } }>('/vdbs/bm-vdb/rewind', { snapshot: 'vdb-start' });
    await succeeded(engine, rewind);
    const timeflow = await engine.runtime.ctx.model.timeflows.get(
      (await engine.client.get<{ vdb: { currentTimeflowId: string } }>('/vdbs/bm-vdb')).vdb.currentTimeflowId,
    );
    expect(timeflow).toMatchObject({ creationType: 'ROLLBACK', parentSnapshotId: must(vdbFirst, 'vdbFirst').id });

    const [, second] = await snapshotsOf(engine, dsourceId);
    await engine.client.post('/bookmarks', { name: 'second', snapshot: must(second, 'second').id });
    await succeeded(engine, await engine.client.post('/vdbs/bm-vdb/refresh', { snapshot: 'second' }));
    const refreshed = await engine.runtime.ctx.model.timeflows.get(
      (await engine.client.get<{ vdb: { currentTimeflowId: string } }>('/vdbs/bm-vdb')).vdb.currentTimeflowId,
    );
    expect(refreshed).toMatchObject({ creationType: 'REFRESH', parentSnapshotId: must(second, 'second').id });
  });

  it('a bookmarked snapshot cannot be deleted with snapshot rm (the bookmark is named); after bookmark rm it can', async () => {
    await succeeded(engine, await engine.client.post(`/dsources/${dsourceId}/sync`, {}));
    const free = must((await snapshotsOf(engine, dsourceId)).at(-1), 'the newest snapshot');
    await engine.client.post('/bookmarks', { name: 'pinned', snapshot: free.id });
    const blocked = await refused(engine.client.delete(`/snapshots/${free.id}`));
    expect(blocked).toMatchObject({ code: 'HAS_DEPENDENTS' });
    expect(blocked.message).toContain('bookmarked as "pinned"');
    expect(blocked.action).toContain('dvx bookmark rm pinned');
    const cli = await dvx(engine, 'snapshot', 'rm', free.id);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain('pinned');
    expect(await engine.storage.hasSnapshot(free.id)).toBe(true);

    const removed = await dvx(engine, 'bookmark', 'rm', 'pinned');
    expect(removed.code, removed.stderr).toBe(0);
    await engine.client.delete(`/snapshots/${free.id}`);
    expect(await engine.storage.hasSnapshot(free.id)).toBe(false);
  });

  it('validates names, snapshots and expiry; an expired bookmark is gone and protects nothing', async () => {
    const [, second] = await snapshotsOf(engine, dsourceId);
    expect(
      await refused(engine.client.post('/bookmarks', { name: 'golden', snapshot: must(second, 'second').id })),
    ).toMatchObject({ code: 'CONFLICT' });
    expect(await refused(engine.client.post('/bookmarks', { name: 'nope', snapshot: 'snap-missing' }))).toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    const past = await refused(
      engine.client.post('/bookmarks', { name: 'old', snapshot: must(second, 'second').id, expires: '2001-01-01' }),
    );
    expect(past.message).toMatch(/in the past/);
    const odd = await refused(
      engine.client.post('/bookmarks', { name: 'odd', snapshot: must(second, 'second').id, expires: 'soonish' }),
    );
    expect(odd.message).toMatch(/neither a duration nor a date/);

    // Long enough that a loaded machine still lists it before it expires; then wait until it has.
    const created = await dvx(
      engine,
      'bookmark',
      'create',
      'brief',
      '--snapshot',
      must(second, 'second').id,
      '--expires',
      '15s',
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/bookmarked snapshot \S+ as brief until/);
    const brief = await engine.client.get<{ bookmark: BookmarkView }>('/bookmarks/brief');
    expect(Date.parse(must(brief.bookmark.expiresAt, 'brief.bookmark.expiresAt'))).toBeGreaterThan(Date.now());
    await new Promise((resolve) =>
      setTimeout(
        resolve,
        Math.max(0, Date.parse(must(brief.bookmark.expiresAt, 'brief.bookmark.expiresAt')) - Date.now()) + 500,
      ),
    );
    const { bookmarks } = await engine.client.get<{ bookmarks: BookmarkView[] }>('/bookmarks');
    expect(bookmarks.map((bookmark) => bookmark.name).sort()).toEqual(['golden', 'second', 'vdb-start']);
    await expect(engine.client.get('/bookmarks/brief')).rejects.toMatchObject({ code: 'NOT_FOUND' });

    // A VDB whose snapshot is bookmarked is not deleted from under the bookmark.
    const vdbDelete = await refused(engine.client.delete('/vdbs/bm-vdb'));
    expect(vdbDelete).toMatchObject({ code: 'HAS_DEPENDENTS' });
    expect(vdbDelete.message).toContain('bookmarked as "vdb-start"');
  });
});
