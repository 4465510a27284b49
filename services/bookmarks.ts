import { ConflictError, NotFoundError, ValidationError } from '../errors/index.js';
import { isExpired, type BookmarkRecord } from '../model/bookmark.js';
import { newId } from '../model/ids.js';
import { checkName } from './dsources.js';
import { present } from './present.js';
import type { Actor, ServiceContext } from './service-context.js';

/** What `dvx bookmark create` / POST /bookmarks takes. */
export interface CreateBookmarkRequest {
  name: string;
  /** Snapshot id. */
  snapshot: string;
  /** A duration from now (`30m`, `12h`, `7d`, `2w`) or an ISO date. @defaultValue never */
  expires?: string;
}

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** The expiry time of `--expires`: a duration from now or an ISO date in the future. */
export function parseExpiry(value: string, now = Date.now()): string {
  const duration = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(value.trim());
  const unitMs = duration?.[2] === undefined ? undefined : UNIT_MS[duration[2]];
  const at =
    duration && unitMs !== undefined
      ? now + Number(duration[1]) * unitMs
      : /^\d{4}-\d{2}-\d{2}/.test(value)
        ? Date.parse(value)
        : Number.NaN;
  if (!Number.isFinite(at)) {
    throw new ValidationError(
      `Bookmark expiry "${value}" is neither a duration nor a date.`,
      [{ pointer: '/expires', message: 'a duration like 30m, 12h, 7d, 2w (or seconds: 90s), or an ISO date' }],
      { action: 'Give e.g. --expires 7d or --expires 2030-01-31.' },
    );
  }
  if (at <= now)
    throw new ValidationError(
      `Bookmark expiry ${new Date(at).toISOString()} is in the past.`,
      [{ pointer: '/expires', message: 'must be in the future' }],
      { action: 'Give a later date, or leave --expires out for a bookmark that never expires.' },
    );
  return new Date(at).toISOString();
}

/** A bookmark as the API shows it: with the name of its snapshot's owner. */
async function presentBookmark(ctx: ServiceContext, bookmark: BookmarkRecord) {
  const owner =
    bookmark.ownerType === 'vdb'
      ? await ctx.model.vdbs.get(bookmark.ownerId)
      : await ctx.model.dsources.get(bookmark.ownerId);
  return present({ ...bookmark, ownerName: owner?.name ?? null });
}

/** Removes bookmarks that expired or whose snapshot is gone; returns what was removed. */
export async function expireBookmarks(
  ctx: ServiceContext,
  now = Date.now(),
): Promise<{ removed: { name: string; snapshotId: string; reason: string }[] }> {
  const removed: { name: string; snapshotId: string; reason: string }[] = [];
  for (const bookmark of await ctx.model.bookmarks.list()) {
    const reason = isExpired(bookmark, now)
      ? `expired at ${bookmark.expiresAt}`
      : (await ctx.model.snapshots.get(bookmark.snapshotId))
        ? null
        : 'its snapshot no longer exists';
    if (!reason) continue;
    await ctx.model.bookmarks.delete(bookmark.id);
    removed.push({ name: bookmark.name, snapshotId: bookmark.snapshotId, reason });
    ctx.logger.info({ bookmark: bookmark.name, snapshotId: bookmark.snapshotId, reason }, 'bookmark removed');
  }
  return { removed };
}

/** The live (unexpired) bookmarks of a snapshot; expired ones met on the way are removed. */
export async function snapshotBookmarks(ctx: ServiceContext, snapshotId: string): Promise<BookmarkRecord[]> {
  const live: BookmarkRecord[] = [];
  for (const bookmark of await ctx.model.bookmarks.listBy('snapshotId', snapshotId)) {
    if (isExpired(bookmark)) await ctx.model.bookmarks.delete(bookmark.id);
    else live.push(bookmark);
  }
  return live;
}

/** Refuses to delete a snapshot a live bookmark names, naming the bookmark(s). */
export async function refuseIfBookmarked(
  ctx: ServiceContext,
  snapshotId: string,
  what = `Snapshot ${snapshotId}`,
): Promise<void> {
  const bookmarks = await snapshotBookmarks(ctx, snapshotId);
  if (bookmarks.length === 0) return;
  const names = bookmarks.map((bookmark) => `"${bookmark.name}"`).join(', ');
  throw new ConflictError({
    code: 'HAS_DEPENDENTS',
    message: `${what} cannot be deleted: it is bookmarked as ${names}.`,
    action: `Remove the bookmark first (${bookmarks.map((bookmark) => `dvx bookmark rm ${bookmark.name}`).join('; ')}).`,
    details: {
      bookmarks: bookmarks.map((bookmark) => ({
        id: bookmark.id,
        name: bookmark.name,
        snapshotId: bookmark.snapshotId,
      })),
    },
  });
}

/**
 * A snapshot id for a reference that may be a snapshot id or a bookmark name (what provision, rewind and refresh
 * take). Unknown references come back unchanged, for the caller's own "no such snapshot" message.
 */
export async function resolveSnapshotRef(ctx: ServiceContext, ref: string): Promise<string> {
  if (await ctx.model.snapshots.get(ref)) return ref;
  const bookmark = await ctx.model.bookmarks.byName(ref);
  if (!bookmark) return ref;
  if (isExpired(bookmark)) {
    await ctx.model.bookmarks.delete(bookmark.id);
    return ref;
  }
  return bookmark.snapshotId;
}

export async function createBookmark(ctx: ServiceContext, request: CreateBookmarkRequest, actor: Actor) {
  checkName(request.name, 'Bookmark');
  const snapshot = await ctx.model.snapshots.get(request.snapshot);
  if (!snapshot)
    throw new ValidationError(
      `No snapshot "${request.snapshot}".`,
      [{ pointer: '/snapshot', message: 'no such snapshot' }],
      { action: 'See `dvx snapshot list`.' },
    );
  const expiresAt = request.expires ? parseExpiry(request.expires) : null;
  const existing = await ctx.model.bookmarks.byName(request.name);
  if (existing && isExpired(existing)) await ctx.model.bookmarks.delete(existing.id);
  const bookmark = await ctx.model.bookmarks.create({
    id: newId('bm'),
    name: request.name,
    snapshotId: snapshot.id,
    ownerType: snapshot.ownerType,
    ownerId: snapshot.ownerId,
    expiresAt,
    createdBy: actor.name,
  });
  return presentBookmark(ctx, bookmark);
}

/** Live bookmarks, oldest first; of one snapshot owner when `owner` (an id) is given. */
export async function listBookmarks(ctx: ServiceContext, filter: { ownerId?: string } = {}) {
  await expireBookmarks(ctx);
  const bookmarks = filter.ownerId
    ? await ctx.model.bookmarks.listBy('ownerId', filter.ownerId)
    : await ctx.model.bookmarks.list();
  return Promise.all(bookmarks.map((bookmark) => presentBookmark(ctx, bookmark)));
}

async function requireBookmark(ctx: ServiceContext, ref: string): Promise<BookmarkRecord> {
  const bookmark = await ctx.model.bookmarks.find(ref);
  if (!bookmark || isExpired(bookmark)) throw new NotFoundError('bookmark', ref, 'See `dvx bookmark list`.');
  return bookmark;
}

export async function showBookmark(ctx: ServiceContext, ref: string) {
  return presentBookmark(ctx, await requireBookmark(ctx, ref));
}

/** Removes a bookmark; its snapshot stays (and is no longer protected by it). */
export async function deleteBookmark(ctx: ServiceContext, ref: string) {
  const bookmark = await requireBookmark(ctx, ref);
  await ctx.model.bookmarks.delete(bookmark.id);
  return { deleted: await presentBookmark(ctx, bookmark) };
}
