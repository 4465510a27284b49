import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  createPrivateKey,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import type { Redis } from 'ioredis';
import { DvxError } from '../errors/index.js';
import { keys, QUEUE_PREFIX } from './keys.js';
import type { SecretBox } from './secret-box.js';

/** The BullMQ queue other programs add lifecycle requests to, with the prefix of every dvx queue. */
export const REQUEST_QUEUE = { name: 'dvx-requests', prefix: QUEUE_PREFIX } as const;

/**
 * An API token sealed for the engine: X25519 with an ephemeral key, HKDF-SHA256, AES-256-GCM, the job id, operation
 * and parameters as associated data. Only the engine's private key opens it, and only for that very request.
 */
export interface SealedToken {
  v: 1;
  /** The ephemeral public key (SPKI DER, base64). */
  epk: string;
  iv: string;
  tag: string;
  ct: string;
}

/** A request job's data. The token is sealed (never in clear); the engine drops it once the run has started. */
export interface RequestJobData {
  /** `vdb.provision`, `vdb.delete`, `dsource.sync`... (README: the request queue). */
  operation: string;
  /** The REST route's body, plus `ref` (id or name) for an operation on one object. */
  params: Record<string, unknown>;
  token?: SealedToken;
  /** Set by the engine once the run started, when it removes the token. */
  runId?: string;
}

/** What a request job completes with. */
export interface RequestJobResult {
  runId: string;
  status: 'succeeded' | 'failed' | 'cancelled';
  objectType: string;
  objectId: string;
  error?: { code: string; message: string; action?: string };
}

const INFO = Buffer.from('dvx-request-token-v1');

function aad(jobId: string, operation: string, params: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify([jobId, operation, params]));
}

function keyFor(shared: Buffer, epk: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, epk, INFO, 32));
}

/** Seals `token` for the engine whose public key (PEM) is given, bound to this job id, operation and parameters. */
export function sealToken(
  publicKeyPem: string,
  token: string,
  request: { jobId: string; operation: string; params: Record<string, unknown> },
): SealedToken {
  const ephemeral = generateKeyPairSync('x25519');
  const epk = ephemeral.publicKey.export({ type: 'spki', format: 'der' });
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: createPublicKey(publicKeyPem) });
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyFor(shared, epk), iv);
  cipher.setAAD(aad(request.jobId, request.operation, request.params));
  const ct = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
  return {
    v: 1,
    epk: epk.toString('base64'),
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ct: ct.toString('base64'),
  };
}

/** Opens a sealed token; UNAUTHORIZED when it was not sealed for this key and this request. */
export function openToken(
  privateKey: KeyObject,
  sealed: SealedToken,
  request: { jobId: string; operation: string; params: Record<string, unknown> },
): string {
  try {
    const epk = Buffer.from(sealed.epk, 'base64');
    const shared = diffieHellman({ privateKey, publicKey: createPublicKey({ key: epk, format: 'der', type: 'spki' }) });
    const decipher = createDecipheriv('aes-256-gcm', keyFor(shared, epk), Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(aad(request.jobId, request.operation, request.params));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new DvxError({
      code: 'UNAUTHORIZED',
      message: "The request's token was not sealed for this engine and this request.",
      action:
        'Seal the token with requestJob() (dvx/queue) for the job id, operation and parameters you add, with the public key in Redis at dvx:request-queue:key.',
    });
  }
}

/** The engine's request key pair: created once (by the first engine), the private half sealed with its secret key. */
export async function requestPrivateKey(redis: Redis, secrets: SecretBox): Promise<KeyObject> {
  const pair = generateKeyPairSync('x25519', {
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  await redis.hsetnx(
    keys.requestKey(),
    'pair',
    JSON.stringify({ public: pair.publicKey, private: secrets.seal(pair.privateKey) }),
  );
  const stored = JSON.parse((await redis.hget(keys.requestKey(), 'pair')) ?? '{}') as { private?: string };
  return createPrivateKey(secrets.open(stored.private ?? ''));
}

/** The public key requests are sealed with (PEM); null until an engine has started on this Redis. */
export async function requestPublicKey(redis: Redis): Promise<string | null> {
  const text = await redis.hget(keys.requestKey(), 'pair');
  return text ? (JSON.parse(text) as { public: string }).public : null;
}

/**
 * A request job's data, for a producer: the token sealed with the engine's public key (read from Redis) for this
 * job id, operation and parameters. Add it with the same `jobId`:
 * `queue.add(operation, await requestJob(redis, token, { jobId, operation, params }), { jobId })`.
 */
export async function requestJob(
  redis: Redis,
  token: string,
  request: { jobId: string; operation: string; params?: Record<string, unknown> },
): Promise<RequestJobData> {
  const publicKey = await requestPublicKey(redis);
  if (!publicKey)
    throw new DvxError({
      code: 'NOT_FOUND',
      message: 'No dvx engine has started on this Redis: there is no request key to seal the token with.',
      action: 'Start the engine (dvx engine start) on this Redis first.',
    });
  const params = request.params ?? {};
  return {
    operation: request.operation,
    params,
    token: sealToken(publicKey, token, { jobId: request.jobId, operation: request.operation, params }),
  };
}
