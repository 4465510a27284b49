import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { KEY_PREFIX } from './keys.js';
import { newId } from './ids.js';

/** What a token may do. admin: everything; operator: run lifecycles; viewer: read. */
export type Role = 'admin' | 'operator' | 'viewer';

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

  private key(tokenHash: string): string {
    return `${KEY_PREFIX}:token:${tokenHash}`;
  }

  /** Creates a token and returns it in clear, once. */
  async create(name: string, role: Role): Promise<{ token: string; record: TokenRecord }> {
    const token = `dvx_${randomBytes(24).toString('base64url')}`;
    const record: TokenRecord = { id: newId('tok'), name, role, createdAt: new Date().toISOString() };
    await this.redis.multi().set(this.key(hash(token)), JSON.stringify(record)).sadd(`${KEY_PREFIX}:tokens`, hash(token)).exec();
    return { token, record };
  }

  /** The token's record, or null for an unknown token. */
  async verify(token: string): Promise<TokenRecord | null> {
    if (!token.startsWith('dvx_')) return null;
    const text = await this.redis.get(this.key(hash(token)));
    return text ? (JSON.parse(text) as TokenRecord) : null;
  }

  /** Revokes the token with this id: it stops working at once. Returns its record, or null for an unknown id. */
  async revoke(id: string): Promise<TokenRecord | null> {
    const hashes = await this.redis.smembers(`${KEY_PREFIX}:tokens`);
    if (hashes.length === 0) return null;
    const texts = await this.redis.mget(...hashes.map((digest) => this.key(digest)));
    const index = texts.findIndex((text) => text !== null && (JSON.parse(text) as TokenRecord).id === id);
    if (index < 0) return null;
    await this.redis.multi().del(this.key(hashes[index]!)).srem(`${KEY_PREFIX}:tokens`, hashes[index]!).exec();
    return JSON.parse(texts[index]!) as TokenRecord;
  }

  async list(): Promise<TokenRecord[]> {
    const hashes = await this.redis.smembers(`${KEY_PREFIX}:tokens`);
    if (hashes.length === 0) return [];
    const texts = await this.redis.mget(...hashes.map((digest) => this.key(digest)));
    return texts.filter((text): text is string => text !== null).map((text) => JSON.parse(text) as TokenRecord);
  }
}
