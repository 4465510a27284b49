import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForRun } from '../../cli/wait-for-run.js';
import type { PolicyFire } from '../../model/policy.js';
import { waitFor } from '../harness/wait-for.js';
import { startEngineFixture, type EngineFixture } from './engine-fixture.js';
import { dvx, refused, setUpDsource, snapshotsOf, succeeded } from './fixture-setup.js';
import { must } from '../harness/must.js';

interface PolicyView {
  id: string;
  name: string;
  paused: boolean;
  targets: { id: string; schedulerId: string; nextFires: string[] }[];
  nextFire: string | null;
  lastFires: PolicyFire[];
}
interface PolicyAnswer {
  policy: PolicyView;
  warnings: string[];
}

let engine: EngineFixture;
let dsourceId: string;
let environments: string[];
const EVERY_2S = '*/2 * * * * *';

const show = (ref: string) => engine.client.get<PolicyAnswer>(`/policies/${ref}`);
const firesOf = async (ref: string) => (await show(ref)).policy.lastFires;

/** Waits until no run holds the dSource (a policy-started sync may be in flight). */
async function idle(id: string) {
  await waitFor(
    `no run on ${id}`,
    async () => (await engine.runtime.ctx.model.runs.lockHolder(`dsource/${id}`)) === null,
    60_000,
    100,
  );
}

beforeAll(async () => {
  engine = await startEngineFixture();
  ({ dsourceId, environments } = await setUpDsource(engine, 'pol-ds'));
  // A VDB provisioned from the link snapshot: retention must never delete that snapshot.
  await succeeded(
    engine,
    await engine.client.post('/vdbs', {
      name: 'pol-vdb',
      source: dsourceId,
      environment: environments[2],
      parameters: { mountLocation: join(engine.dir, 'mnt', 'pol-vdb') },
    }),
  );
}, 240_000);
afterAll(async () => engine?.stop(), 120_000);

describe('policy validation', () => {
  it('refuses a bad cron, an unknown time zone, a wrong target type and a retention without rules, naming the field', async () => {
    const cron = await refused(
      engine.client.post('/policies', { name: 'bad-cron', type: 'SNAPSYNC', schedule: { cron: '61 * * * *' } }),
    );
    expect(cron).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(cron.message).toMatch(/Cron expression "61 \* \* \* \*" is invalid/);
    expect(must((cron.details as { issues: { pointer: string }[] }).issues[0], 'the first issue').pointer).toBe(
      '/schedule/cron',
    );
    const zone = await refused(
      engine.client.post('/policies', {
        name: 'bad-tz',
        type: 'SNAPSYNC',
        schedule: { cron: '0 2 * * *', timeZone: 'Mars/Olympus' },
      }),
    );
    expect(zone.message).toMatch(/"Mars\/Olympus" is not an IANA time zone/);
    expect(must((zone.details as { issues: { pointer: string }[] }).issues[0], 'the first issue').pointer).toBe(
      '/schedule/timeZone',
    );
    const target = await refused(
      engine.client.post('/policies', {
        name: 'wrong-target',
        type: 'SNAPSYNC',
        schedule: { cron: '0 2 * * *' },
        targets: ['pol-vdb'],
      }),
    );
    expect(target.message).toMatch(/cannot apply to VDB "pol-vdb"/);
    const rules = await refused(
      engine.client.post('/policies', { name: 'no-rules', type: 'RETENTION', retention: {} }),
    );
    expect(rules.message).toMatch(/needs keepCount, keepDays or both/);
    expect((await engine.client.get<{ policies: unknown[] }>('/policies')).policies).toHaveLength(0);
  });

  it('computes next fires in the policy time zone', async () => {
    const { policy } = await engine.client.post<PolicyAnswer>('/policies', {
      name: 'tz-check',
      type: 'VDB_SNAPSHOT',
      schedule: { cron: '30 2 * * *', timeZone: 'Asia/Kolkata' },
      targets: ['pol-vdb'],
    });
    const shown = await show(policy.id);
    const fires = must(shown.policy.targets[0], 'shown.policy.targets[0]').nextFires;
    expect(fires.length).toBeGreaterThanOrEqual(3);
    // 02:30 in Kolkata (UTC+5:30) is 21:00 UTC.
    for (const fire of fires) expect(fire).toMatch(/T21:00:00\.000Z$/);
    await engine.client.delete(`/policies/${policy.id}`);
  });
});

describe('SNAPSYNC', () => {
  it('fires on its cron and syncs the dSource with null snapshot parameters, as policy:<name>', async () => {
    const before = (await snapshotsOf(engine, dsourceId)).length;
    const created = await engine.client.post<PolicyAnswer>('/policies', {
      name: 'snapsync',
      type: 'SNAPSYNC',
      schedule: { cron: EVERY_2S, timeZone: 'Europe/Paris' },
      targets: ['pol-ds'],
    });
    expect(must(created.policy.targets[0], 'created.policy.targets[0]').schedulerId).not.toContain(':');
    expect(created.policy.nextFire).not.toBeNull();
    const fire = await waitFor(
      'a started SNAPSYNC fire',
      async () => (await firesOf('snapsync')).find((candidate) => candidate.outcome === 'started'),
      30_000,
      200,
    );
    const run = await waitForRun(engine.client, must(fire.runId, 'fire.runId'), { stream: null });
    expect(run.status).toBe('succeeded');
    const detail = await engine.client.get<{
      run: { kind: string; requestedBy: string; state: { context: { input: { snapshotParameters: unknown } } } };
    }>(`/runs/${fire.runId}`);
    expect(detail.run).toMatchObject({ kind: 'sync', requestedBy: 'policy:snapsync' });
    expect(detail.run.state.context.input.snapshotParameters).toBeNull();
    expect((await snapshotsOf(engine, dsourceId)).length).toBeGreaterThan(before);
  });

  it('a fire while another run holds the dSource is skipped and recorded, not queued behind it', async () => {
    await engine.client.post('/policies/snapsync/pause');
    await idle(dsourceId);
    // A preSync hook that sleeps keeps a manual sync (and its lock) going for a while.
    await engine.client.request('PUT', `/hooks/${dsourceId}/preSync`, { script: 'sleep 6' });
    const manual = await engine.client.post<{ run: { id: string } }>(`/dsources/${dsourceId}/sync`, {});
    await engine.client.post('/policies/snapsync/resume');
    const skipped = await waitFor(
      'a skipped fire',
      async () =>
        (await firesOf('snapsync')).find(
          (candidate) => candidate.outcome === 'skipped' && candidate.heldBy === manual.run.id,
        ),
      20_000,
      200,
    );
    expect(skipped.reason).toContain(manual.run.id);
    await engine.client.post('/policies/snapsync/pause');
    await succeeded(engine, manual);
    await engine.client.delete(`/hooks/${dsourceId}/preSync`);
    // Nothing was queued behind the manual run: no policy run started after the skip.
    await idle(dsourceId);
    const runs = await engine.client.get<{ runs: { requestedBy: string; createdAt: string }[] }>(
      `/runs?objectType=dsource&objectId=${dsourceId}&limit=100`,
    );
    expect(runs.runs.filter((run) => run.requestedBy === 'policy:snapsync' && run.createdAt > skipped.at)).toEqual([]);
  });

  it('pause stops fires (no schedulers, no next fire); resume starts them again', async () => {
    await idle(dsourceId);
    const paused = await show('snapsync');
    expect(paused.policy.paused).toBe(true);
    expect(must(paused.policy.targets[0], 'paused.policy.targets[0]').nextFires).toEqual([]);
    const fires = paused.policy.lastFires.length;
    const snapshots = (await snapshotsOf(engine, dsourceId)).length;
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect((await firesOf('snapsync')).length).toBe(fires);
    expect((await snapshotsOf(engine, dsourceId)).length).toBe(snapshots);

    const resumed = await engine.client.post<PolicyAnswer>('/policies/snapsync/resume');
    expect(resumed.policy.nextFire).not.toBeNull();
    await waitFor('a fire after resume', async () => (await firesOf('snapsync')).length > fires, 20_000, 200);
    await engine.client.post('/policies/snapsync/pause');
    await idle(dsourceId);
  });

  it('refuses a second policy of the same type on one object', async () => {
    const second = await refused(
      engine.client.post('/policies', {
        name: 'snapsync-2',
        type: 'SNAPSYNC',
        schedule: { cron: '0 3 * * *' },
        targets: ['pol-ds'],
      }),
    );
    expect(second).toMatchObject({ code: 'CONFLICT' });
    expect(second.message).toMatch(/already has a SNAPSYNC policy \("snapsync"\)/);
    await engine.client.post('/policies', { name: 'snapsync-2', type: 'SNAPSYNC', schedule: { cron: '0 3 * * *' } });
    const apply = await refused(engine.client.post('/policies/snapsync-2/apply', { object: 'pol-ds' }));
    expect(apply).toMatchObject({ code: 'CONFLICT' });
    await engine.client.delete('/policies/snapsync-2');
  });
});

describe('warnings', () => {
  it('warns (without refusing) about a refresh more frequent than the parent SnapSync and retention that prunes what refreshes need', async () => {
    await engine.client.request('PATCH', '/policies/snapsync', { schedule: { cron: '0 0 1 * *', timeZone: 'UTC' } });
    const refresh = await engine.client.post<PolicyAnswer>('/policies', {
      name: 'refresh-daily',
      type: 'REFRESH',
      schedule: { cron: '0 0 * * *' },
    });
    expect(refresh.warnings).toEqual([]);
    await engine.client.post('/policies/refresh-daily/pause');
    const applied = await engine.client.post<PolicyAnswer>('/policies/refresh-daily/apply', { object: 'pol-vdb' });
    expect(applied.warnings.join('\n')).toMatch(
      /REFRESH policy "refresh-daily" on VDB "pol-vdb" fires every ~1 d, more often than SNAPSYNC policy "snapsync"/,
    );
    const retention = await engine.client.post<PolicyAnswer>('/policies', {
      name: 'retain-nothing',
      type: 'RETENTION',
      retention: { keepCount: 0, keepDays: 0.01 },
    });
    await engine.client.post('/policies/retain-nothing/pause');
    const both = await engine.client.post<PolicyAnswer>('/policies/retain-nothing/apply', { object: 'pol-ds' });
    expect(both.warnings.join('\n')).toMatch(
      /RETENTION policy "retain-nothing" on dSource "pol-ds" keeps only the newest 0 and everything younger than 0.01 days/,
    );
    expect((await show('refresh-daily')).warnings.length).toBe(2);
    expect(retention.policy.name).toBe('retain-nothing');
    await engine.client.delete('/policies/refresh-daily');
    await engine.client.delete('/policies/retain-nothing');
  });
});

describe('RETENTION', () => {
  it('prunes exactly the snapshots beyond its rules, keeping the bookmarked one, the one a VDB depends on and the newest, saying why', async () => {
    await idle(dsourceId);
    while ((await snapshotsOf(engine, dsourceId)).length < 5)
      await succeeded(engine, await engine.client.post(`/dsources/${dsourceId}/sync`, {}));
    const all = await snapshotsOf(engine, dsourceId);
    const [linked, bookmarked] = [must(all[0], 'all[0]'), must(all[1], 'all[1]')];
    const newest = must(all.at(-1), 'all.at(-1)');
    await engine.client.post('/bookmarks', { name: 'pol-keep', snapshot: bookmarked.id });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const expectedDeleted = all.slice(2, -1).map((snapshot) => snapshot.id);

    // keepDays 0.00001 is under a second: by age and count nothing is kept, so only the protections keep snapshots.
    const created = await engine.client.post<PolicyAnswer>('/policies', {
      name: 'retain',
      type: 'RETENTION',
      schedule: { cron: EVERY_2S },
      retention: { keepCount: 0, keepDays: 0.00001 },
      targets: ['pol-ds'],
    });
    expect(created.policy.nextFire).not.toBeNull();
    const fire = await waitFor(
      'a retention fire',
      async () => (await firesOf('retain')).find((candidate) => candidate.outcome === 'pruned'),
      30_000,
      200,
    );
    await engine.client.post('/policies/retain/pause');
    expect(
      must(fire.deleted, 'fire.deleted')
        .map((entry) => entry.snapshotId)
        .sort(),
    ).toEqual(expectedDeleted.sort());
    const kept = new Map(must(fire.kept, 'fire.kept').map((entry) => [entry.snapshotId, entry.reasons.join('; ')]));
    expect([...kept.keys()].sort()).toEqual([linked.id, bookmarked.id, newest.id].sort());
    expect(kept.get(linked.id)).toMatch(/VDB "pol-vdb" was cloned from it/);
    expect(kept.get(bookmarked.id)).toMatch(/bookmarked as "pol-keep"/);
    expect(kept.get(newest.id)).toMatch(/newest snapshot of the current timeflow/);
    expect((await snapshotsOf(engine, dsourceId)).map((snapshot) => snapshot.id).sort()).toEqual(
      [linked.id, bookmarked.id, newest.id].sort(),
    );
    for (const id of expectedDeleted) expect(await engine.storage.hasSnapshot(id)).toBe(false);
  });

  it('dvx policy list and show print next fires and what retention kept', async () => {
    await engine.client.post('/policies/retain/resume');
    const list = await dvx(engine, 'policy', 'list');
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/retain\s+RETENTION/);
    expect(list.stdout).toMatch(/NEXT FIRE/);
    const shown = await dvx(engine, 'policy', 'show', 'retain');
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/next: \d{4}-\d{2}-\d{2}T/);
    expect(shown.stdout).toMatch(/kept\s+\S+: .*bookmarked as "pol-keep"/);
    const paused = await dvx(engine, 'policy', 'pause', 'retain');
    expect(paused.stdout).toContain('paused policy retain');
    const bad = await dvx(engine, 'policy', 'create', 'x', '--type', 'SNAPSYNC', '--cron', 'not a cron');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/invalid/i);
  });

  it('rm removes the policy and its job schedulers', async () => {
    const { policy } = await show('retain');
    await engine.client.delete('/policies/retain');
    const { policyQueue } = await import('../../workers/policy-queue.js');
    expect(
      await policyQueue(engine.runtime.ctx.model.redis).getJobScheduler(
        must(policy.targets[0], 'policy.targets[0]').schedulerId,
      ),
    ).toBeUndefined();
    await expect(show('retain')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('VDB_SNAPSHOT and REFRESH', () => {
  async function firesOnce(name: string, type: string) {
    await engine.client.post('/policies', { name, type, schedule: { cron: EVERY_2S }, targets: ['pol-vdb'] });
    const fire = await waitFor(
      `a started ${type} fire`,
      async () => (await firesOf(name)).find((candidate) => candidate.outcome === 'started'),
      30_000,
      200,
    );
    await engine.client.delete(`/policies/${name}`);
    const run = await waitForRun(engine.client, must(fire.runId, 'fire.runId'), { stream: null });
    expect(run.status).toBe('succeeded');
    await waitFor(
      'the VDB idle',
      async () => (await engine.runtime.ctx.model.runs.lockHolder(`vdb/${run.objectId}`)) === null,
      60_000,
      100,
    );
    return run;
  }

  it("fire through the service layer: a VDB snapshot, then a refresh from the parent's newest snapshot", async () => {
    const before = (await snapshotsOf(engine, 'pol-vdb')).length;
    const snapshot = await firesOnce('vdb-snap', 'VDB_SNAPSHOT');
    expect(snapshot).toMatchObject({ kind: 'vdb-snapshot', requestedBy: 'policy:vdb-snap' });
    expect((await snapshotsOf(engine, 'pol-vdb')).length).toBeGreaterThan(before);

    const refresh = await firesOnce('vdb-refresh', 'REFRESH');
    expect(refresh).toMatchObject({ kind: 'vdb-refresh', requestedBy: 'policy:vdb-refresh' });
    const { vdb } = await engine.client.get<{ vdb: { currentTimeflowId: string } }>('/vdbs/pol-vdb');
    const timeflow = await engine.runtime.ctx.model.timeflows.get(vdb.currentTimeflowId);
    expect(timeflow).toMatchObject({
      creationType: 'REFRESH',
      parentSnapshotId: must((await snapshotsOf(engine, dsourceId)).at(-1), 'the newest snapshot').id,
    });
  });
});
