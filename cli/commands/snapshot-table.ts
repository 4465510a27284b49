import { formatTable } from '../output.js';

export interface SnapshotView {
  id: string;
  ownerType: string;
  ownerId: string;
  timeflowId: string;
  createdAt: string;
  metadata: Record<string, unknown>;
}

export function formatSnapshots(snapshots: SnapshotView[]): string {
  return formatTable(snapshots, [
    { header: 'id', value: (s) => s.id },
    { header: 'owner', value: (s) => `${s.ownerType}/${s.ownerId}` },
    { header: 'timeflow', value: (s) => s.timeflowId },
    { header: 'created', value: (s) => s.createdAt },
    { header: 'metadata', value: (s) => s.metadata },
  ]);
}
