import type { PolicyRecord, PolicySchedule, PolicyType } from '../../model/policy.js';
import type { VdbRecord } from '../../model/vdb.js';
import { nextCronFires } from '../../workers/policy-queue.js';
import { describeRetention } from '../retention.js';
import type { ServiceContext } from '../service-context.js';
import { objectLabel } from './validate-policy.js';

/** The mean time between the next fires of a schedule, in ms. */
function meanInterval(schedule: PolicySchedule): number {
  const fires = nextCronFires(schedule, 12);
  const first = fires[0];
  const last = fires.at(-1);
  if (fires.length < 2 || first === undefined || last === undefined) return Number.POSITIVE_INFINITY;
  return (last - first) / (fires.length - 1);
}

export function formatInterval(ms: number): string {
  if (!Number.isFinite(ms)) return 'never';
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1_000, 's'],
  ];
  for (const [size, unit] of units) if (ms >= size) return `${Math.round((ms / size) * 10) / 10} ${unit}`;
  return `${Math.round(ms)} ms`;
}

/**
 * Warnings about combinations of policies that cannot work on the objects around `objectIds` (the objects, their
 * parent and child VDBs): a REFRESH policy firing more often than the parent's snapshot policy (or a parent with
 * none), and a RETENTION on the parent that prunes snapshots faster than the REFRESH comes to use them.
 */
export async function policyWarnings(ctx: ServiceContext, all: PolicyRecord[], objectIds: string[]): Promise<string[]> {
  const { model } = ctx;
  const on = (id: string, type: PolicyType) =>
    all.find((policy) => policy.type === type && policy.targets.some((target) => target.id === id));
  const vdbs = new Map<string, VdbRecord>();
  for (const id of objectIds) {
    const vdb = await model.vdbs.get(id);
    if (vdb) vdbs.set(vdb.id, vdb);
    for (const child of await model.vdbs.listBy('parentId', id)) vdbs.set(child.id, child);
  }
  const warnings: string[] = [];
  for (const vdb of vdbs.values()) {
    const refresh = on(vdb.id, 'REFRESH');
    if (!refresh) continue;
    const parent =
      vdb.parentType === 'vdb' ? await model.vdbs.get(vdb.parentId) : await model.dsources.get(vdb.parentId);
    if (!parent) continue;
    const parentLabel = objectLabel({ type: vdb.parentType, name: parent.name });
    const snapshotType: PolicyType = vdb.parentType === 'vdb' ? 'VDB_SNAPSHOT' : 'SNAPSYNC';
    const snapshotPolicy = on(parent.id, snapshotType);
    const refreshEvery = meanInterval(refresh.schedule);
    if (!snapshotPolicy) {
      warnings.push(
        `REFRESH policy "${refresh.name}" on VDB "${vdb.name}": its parent ${parentLabel} has no ${snapshotType} policy, so scheduled refreshes reuse the same snapshot until someone takes a new one.`,
      );
    } else {
      const snapshotEvery = meanInterval(snapshotPolicy.schedule);
      if (refreshEvery < snapshotEvery) {
        warnings.push(
          `REFRESH policy "${refresh.name}" on VDB "${vdb.name}" fires every ~${formatInterval(refreshEvery)}, more often than ${snapshotType} policy "${snapshotPolicy.name}" on its parent ${parentLabel} (every ~${formatInterval(snapshotEvery)}): most refreshes will find no new snapshot and only discard the VDB's changes.`,
        );
      }
    }
    const retention = on(parent.id, 'RETENTION');
    if (retention?.retention) {
      const { keepCount, keepDays } = retention.retention;
      const keptFor = (keepDays ?? 0) * 86_400_000;
      if ((keepCount ?? 0) <= 1 && keptFor < refreshEvery) {
        warnings.push(
          `RETENTION policy "${retention.name}" on ${parentLabel} keeps only ${describeRetention(retention.retention)}, less than the ~${formatInterval(refreshEvery)} between fires of REFRESH policy "${refresh.name}" on VDB "${vdb.name}": every snapshot but the newest is deleted before a refresh can use it.`,
        );
      }
    }
  }
  return [...new Set(warnings)];
}
