import type { Redis } from 'ioredis';
import { DvxError } from '../errors/index.js';
import { keys } from './keys.js';

/** Who made a request, as far as the engine could tell (null fields for an unauthenticated attempt). */
export interface AuditActor {
  tokenId: string | null;
  name: string | null;
  role: string | null;
  /** The client's address. */
  ip: string;
}

/** One mutating request, allowed or refused. Never holds a request body, a query string or a token. */
export interface AuditEntry {
  /** Stream id: milliseconds since epoch and a sequence, newest is highest. */
  id: string;
  at: string;
  actor: AuditActor;
  method: string;
  /** The route pattern (`/vdbs/:ref/start`), or the path when no route matched. */
  route: string;
  /** The route's path parameters: the ids or names of the objects acted on. */
  params: Record<string, string>;
  /** The run the request started, if it started one. */
  runId: string | null;
  /** HTTP status of the answer. */
  status: number;
  /** The dvx error code of a refused or failed request. */
  errorCode: string | null;
}

/** Filters of {@link AuditLog.list}. */
export interface AuditQuery {
  /** At most this many, newest first. @defaultValue 100 */
  limit?: number;
  /** Only entries at or after this time (ms since epoch). */
  sinceMs?: number;
  /** Only entries by this token id or token name. */
  actor?: string;
}

/** Options of {@link AuditLog}. */
export interface AuditLogOptions {
  /** About this many entries are kept; older ones are trimmed (XADD MAXLEN ~). @defaultValue 100000 */
  maxEntries?: number;
}

/** Entries read per XREVRANGE while filtering by actor. */
const PAGE = 1_000;

/** The audit log: a capped Redis stream of mutating API requests. */
export class AuditLog {
  readonly key = keys.audit();
  private readonly maxEntries: number;

  constructor(
    private readonly redis: Redis,
    { maxEntries = 100_000 }: AuditLogOptions = {},
  ) {
    this.maxEntries = maxEntries;
  }

  /** Appends an entry; its id and time come from Redis. */
  async record(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<string> {
    const id = await this.redis.xadd(
      this.key,
      'MAXLEN',
      '~',
      String(this.maxEntries),
      '*',
      'entry',
      JSON.stringify(entry),
    );
    // Null only with NOMKSTREAM, which is not given: Redis creates the stream if need be.
    if (id === null) throw new DvxError({ code: 'INTERNAL', message: 'Redis did not add the audit entry.' });
    return id;
  }

  /** Entries, newest first. */
  async list(query: AuditQuery = {}): Promise<AuditEntry[]> {
    const limit = query.limit ?? 100;
    const start = query.sinceMs === undefined ? '-' : `${Math.max(0, Math.floor(query.sinceMs))}-0`;
    const found: AuditEntry[] = [];
    let end = '+';
    while (found.length < limit) {
      const page = await this.redis.xrevrange(this.key, end, start, 'COUNT', query.actor ? PAGE : limit - found.length);
      for (const [id, fields] of page) {
        const entry = parse(id, fields);
        if (!entry) continue;
        if (query.actor && entry.actor.tokenId !== query.actor && entry.actor.name !== query.actor) continue;
        found.push(entry);
        if (found.length === limit) break;
      }
      const last = page.at(-1);
      if (!last || !query.actor) break;
      end = `(${last[0]}`;
    }
    return found;
  }
}

function parse(id: string, fields: string[]): AuditEntry | null {
  const index = fields.indexOf('entry');
  const text = index < 0 ? undefined : fields[index + 1];
  if (text === undefined) return null;
  try {
    const entry = JSON.parse(text) as Omit<AuditEntry, 'id' | 'at'>;
    return { id, at: new Date(Number(id.split('-')[0])).toISOString(), ...entry };
  } catch {
    return null;
  }
}
