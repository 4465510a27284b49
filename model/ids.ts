import { ulid } from 'ulid';

/**
 * A new id for a record kind: `<prefix>-<ulid>` in lower case. Sortable by creation time, safe in file names,
 * BullMQ job ids (no `:`, never all digits) and btrfs subvolume names.
 */
export function newId(prefix: string): string {
  return `${prefix}-${ulid().toLowerCase()}`;
}

export const newRunId = () => newId('run');
