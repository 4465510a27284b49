import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { keys } from './keys.js';
import { newId } from './ids.js';

/** What a token may do. admin: everything; operator: run lifecycles; viewer: read. */
export const ROLES = ['admin', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const isRole = (value: string): value is Role => (ROLES as readonly string[]).includes(value);

/** A stored API token: only its SHA-256 is kept. */
export interface TokenRecord {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/** API tokens in Redis, keyed by their hash: a leaked Redis dump does not leak usable tokens. */
export class TokenStore {
  constructor(private readonly redis: Redis) {}

  /** Creates a token and returns it in clear, once. */
  async create(name: string, role: Role): Promise<{ token: string; record: TokenRecord }> {
    const token = `dvx_${randomBytes(24).toString('base64url')}`;
    const record: TokenRecord = { id: newId('tok'), name, role, createdAt: new Date().toISOString() };
    await this.redis
      .multi()
      .set(keys.token(hash(token)), JSON.stringify(record))
      .sadd(keys.tokens(), hash(token))
      .exec();
    return { token, record };
  }

  /** The token's record, or null for an unknown token. */
  async verify(token: string): Promise<TokenRecord | null> {
    if (!token.startsWith('dvx_')) return null;
    const text = await this.redis.get(keys.token(hash(token)));
    return text ? (JSON.parse(text) as TokenRecord) : null;
  }

  /** Revokes the token with this id: it stops working at once. Returns its record, or null for an unknown id. */
  async revoke(id: string): Promise<TokenRecord | null> {
    const found = (await this.entries()).find((entry) => entry.record.id === id);
    if (!found) return null;
    await this.redis.multi().del(keys.token(found.digest)).srem(keys.tokens(), found.digest).exec();
    return found.record;
  }

  async list(): Promise<TokenRecord[]> {
    return (await this.entries()).map((entry) => entry.record);
  }

  /** Every stored token's record with the hash it is keyed by. */
  private async entries(): Promise<{ digest: string; record: TokenRecord }[]> {
    const hashes = await this.redis.smembers(keys.tokens());
    if (hashes.length === 0) return [];
    const texts = await this.redis.mget(...hashes.map((digest) => keys.token(digest)));
    return hashes.flatMap((digest, i) => (texts[i] ? [{ digest, record: JSON.parse(texts[i]) as TokenRecord }] : []));
  }
}
