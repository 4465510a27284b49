import type { Redis } from 'ioredis';
import { ConflictError, DvxError, NotFoundError } from '../errors/index.js';
import { KEY_PREFIX } from './keys.js';
import { integerReply, RedisScript } from './lua/redis-script.js';

/** Every stored record has an id, a revision bumped on each write, and timestamps. */
export interface StoredRecord {
  id: string;
  rev: number;
  createdAt: string;
  updatedAt: string;
}

/** A record as callers create it: without the fields the store sets. */
export type NewRecord<T extends StoredRecord> = Omit<T, 'rev' | 'createdAt' | 'updatedAt'>;

/** Options of {@link RecordStore}. */
export interface RecordStoreOptions<T> {
  /** Record kind, used in keys and messages (`environment`, `vdb`...). */
  kind: string;
  /** Human name of the kind for messages. @defaultValue kind */
  label?: string;
  /** A field whose value is unique among records of this kind (looked up by {@link RecordStore.byName}). */
  nameField?: keyof T & string;
  /** Fields indexed for {@link RecordStore.listBy}; their values must not change after creation. */
  indexes?: readonly (keyof T & string)[];
  /**
   * Called after a write that changes the record's `status` field (created: from `null`; deleted: to `DELETED`),
   * in the process that wrote it. @defaultValue none
   */
  onStatusChange?: (change: StatusChange<T>) => void;
}

/** A record whose `status` changed: the record as written (as it was, for a deletion). */
export interface StatusChange<T> {
  record: T;
  from: string | null;
  to: string;
}

function statusOf(record: unknown): string | undefined {
  const status = (record as { status?: unknown }).status;
  return typeof status === 'string' ? status : undefined;
}

const putRecord = new RedisScript('put-record');

/**
 * JSON records of one kind in Redis: `dvx:<kind>:<id>`, a set of all ids, a unique-name index and
 * secondary indexes. Updates are compare-and-set on the record's revision, retried on conflict, so two
 * writers never lose each other's changes.
 */
export class RecordStore<T extends StoredRecord> {
  private readonly kind: string;
  private readonly label: string;

  constructor(
    private readonly redis: Redis,
    private readonly options: RecordStoreOptions<T>,
  ) {
    this.kind = options.kind;
    this.label = options.label ?? options.kind;
    putRecord.define(redis);
  }

  private key(id: string): string {
    return `${KEY_PREFIX}:${this.kind}:${id}`;
  }
  private allKey(): string {
    return `${KEY_PREFIX}:${this.kind}s`;
  }
  private nameKey(name: string): string {
    return `${KEY_PREFIX}:${this.kind}:name:${name}`;
  }
  private indexKey(field: string, value: unknown): string {
    return `${KEY_PREFIX}:${this.kind}:by-${field}:${String(value)}`;
  }

  private async put(key: string, expectedRev: number, record: T): Promise<number> {
    return integerReply(
      putRecord,
      await putRecord.run(this.redis, [key], [String(expectedRev), JSON.stringify(record)]),
    );
  }

  /** Creates a record; refuses a duplicate id or name. */
  async create(input: NewRecord<T>): Promise<T> {
    const now = new Date().toISOString();
    const record = { ...input, rev: 1, createdAt: now, updatedAt: now } as T;
    const nameField = this.options.nameField;
    const name = nameField ? String(record[nameField]) : undefined;
    if (name !== undefined) {
      const claimed = await this.redis.set(this.nameKey(name), record.id, 'NX');
      if (claimed !== 'OK') {
        const holder = await this.redis.get(this.nameKey(name));
        if (holder !== record.id) {
          throw new ConflictError({
            message: `A ${this.label} named "${name}" already exists (${holder}).`,
            action: `Choose another name, or use the existing ${this.label}.`,
            details: { kind: this.kind, name, id: holder },
          });
        }
      }
    }
    const written = await this.put(this.key(record.id), 0, record);
    if (written === -1) {
      throw new ConflictError({
        message: `A ${this.label} with id "${record.id}" already exists.`,
        details: { kind: this.kind, id: record.id },
      });
    }
    const pipeline = this.redis.multi().sadd(this.allKey(), record.id);
    for (const field of this.options.indexes ?? []) {
      const value = record[field];
      if (value !== undefined && value !== null) pipeline.sadd(this.indexKey(field, value), record.id);
    }
    await pipeline.exec();
    const status = statusOf(record);
    if (status !== undefined) this.options.onStatusChange?.({ record, from: null, to: status });
    return record;
  }

  async get(id: string): Promise<T | null> {
    const text = await this.redis.get(this.key(id));
    return text ? (JSON.parse(text) as T) : null;
  }

  /** The record, or NOT_FOUND saying how to find the right id. */
  async require(id: string): Promise<T> {
    const record = await this.get(id);
    if (!record) throw new NotFoundError(this.label, id);
    return record;
  }

  async byName(name: string): Promise<T | null> {
    if (!this.options.nameField) return null;
    const id = await this.redis.get(this.nameKey(name));
    return id ? this.get(id) : null;
  }

  /** By id, or by name when no record has that id. */
  async find(idOrName: string): Promise<T | null> {
    return (await this.get(idOrName)) ?? (await this.byName(idOrName));
  }

  async requireFind(idOrName: string): Promise<T> {
    const record = await this.find(idOrName);
    if (!record) throw new NotFoundError(this.label, idOrName);
    return record;
  }

  /**
   * Applies `change` to the current record and writes it if nobody wrote in between; otherwise re-reads and
   * tries again. `change` may run more than once and must be pure.
   */
  async update(id: string, change: (current: T) => Partial<T>): Promise<T> {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const current = await this.require(id);
      const next = {
        ...current,
        ...change(current),
        id: current.id,
        rev: current.rev + 1,
        createdAt: current.createdAt,
        updatedAt: new Date().toISOString(),
      } as T;
      const written = await this.put(this.key(id), current.rev, next);
      if (written === 1) {
        const [from, to] = [statusOf(current), statusOf(next)];
        if (to !== undefined && from !== to) this.options.onStatusChange?.({ record: next, from: from ?? null, to });
        return next;
      }
      if (written === -2) throw new NotFoundError(this.label, id);
    }
    throw new DvxError({
      code: 'CONFLICT',
      message: `The ${this.label} ${id} kept changing; try again.`,
      retryable: true,
    });
  }

  async delete(id: string): Promise<boolean> {
    const record = await this.get(id);
    if (!record) return false;
    const pipeline = this.redis.multi().del(this.key(id)).srem(this.allKey(), id);
    const nameField = this.options.nameField;
    if (nameField) pipeline.del(this.nameKey(String(record[nameField])));
    for (const field of this.options.indexes ?? []) {
      const value = record[field];
      if (value !== undefined && value !== null) pipeline.srem(this.indexKey(field, value), id);
    }
    await pipeline.exec();
    const from = statusOf(record);
    if (from !== undefined) this.options.onStatusChange?.({ record, from, to: 'DELETED' });
    return true;
  }

  async list(): Promise<T[]> {
    return this.many(await this.redis.smembers(this.allKey()));
  }

  async listBy(field: keyof T & string, value: unknown): Promise<T[]> {
    if (!(this.options.indexes ?? []).includes(field)) throw new Error(`${this.kind}.${field} is not indexed`);
    return this.many(await this.redis.smembers(this.indexKey(field, value)));
  }

  private async many(ids: string[]): Promise<T[]> {
    if (ids.length === 0) return [];
    const texts = await this.redis.mget(...ids.map((id) => this.key(id)));
    return texts
      .filter((text): text is string => text !== null)
      .map((text) => JSON.parse(text) as T)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }
}
