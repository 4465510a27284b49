import type { StoredRecord } from './record-store.js';

/** A named snapshot: protected from retention and from deletion, usable wherever a snapshot id is. */
export interface BookmarkRecord extends StoredRecord {
  name: string;
  snapshotId: string;
  ownerType: 'dsource' | 'vdb';
  ownerId: string;
  /** After this time the bookmark no longer protects its snapshot and is removed. */
  expiresAt: string | null;
  createdBy: string;
}

/** Whether a bookmark has expired at `now`. */
export function isExpired(bookmark: BookmarkRecord, now = Date.now()): boolean {
  return bookmark.expiresAt !== null && Date.parse(bookmark.expiresAt) <= now;
}
