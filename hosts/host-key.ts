import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import { HostError, toDvxError } from '../errors/index.js';
import type { HostAddress } from './host-connection.js';

/** A host's public key, as pinned in an environment record. */
export interface HostKey {
  /** OpenSSH public key text without comment: `ssh-ed25519 AAAAC3...`. */
  key: string;
  /** `SHA256:` fingerprint, as `ssh-keygen -l` prints it. */
  fingerprint: string;
}

/** Options of {@link fetchHostKey}. */
export interface FetchHostKeyOptions {
  /** Give up after this long. @defaultValue 20 000 ms */
  timeoutMs?: number;
}

export const FETCH_HOST_KEY_DEFAULTS: Required<FetchHostKeyOptions> = { timeoutMs: 20_000 };

/** `SHA256:<base64 without padding>` of a key in SSH wire format. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named at the start of a key in SSH wire format. */
function wireKeyType(blob: Buffer): string {
  const length = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** The {@link HostKey} of a key in SSH wire format (what ssh2 hands to a host verifier). */
export function hostKeyFromWire(blob: Buffer): HostKey {
  return { key: `${wireKeyType(blob)} ${blob.toString('base64')}`, fingerprint: fingerprintOf(blob) };
}

/** A pinned key as given by the user: key text or fingerprint. */
export interface ParsedPin {
  fingerprint: string;
  /** Key type when the pin is key text; lets the client ask the host for that key type. */
  type?: string;
}

/** Parses a pin (`ssh-ed25519 AAAA... [comment]` or `SHA256:...`); throws HOST_BAD_INPUT when it is neither. */
export function parsePinnedHostKey(pin: string, hostName: string): ParsedPin {
  const text = pin.trim();
  if (/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(text)) return { fingerprint: text.replace(/=$/, '') };
  const [type, base64] = text.split(/\s+/);
  if (type && base64 && /^[A-Za-z0-9+/]+={0,2}$/.test(base64)) {
    const blob = Buffer.from(base64, 'base64');
    if (wireKeyType(blob) === type) return { fingerprint: fingerprintOf(blob), type };
  }
  throw new HostError({
    code: 'HOST_BAD_INPUT',
    host: hostName,
    message: `The pinned host key of ${hostName} is neither an OpenSSH public key nor a SHA256 fingerprint.`,
    action: 'Pin the key that `fetchHostKey` (or `ssh-keyscan`) returns for this host.',
  });
}

/** The host key algorithms ssh2 should ask for so that the host presents a key of the pinned type. */
export function hostKeyAlgorithmsFor(type: string | undefined): string[] | undefined {
  if (type === undefined) return undefined;
  if (type === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return [type];
}

/** The error for a host whose key differs from the pinned one. Permanent: retrying cannot help. */
export function hostKeyMismatchError(address: HostAddress, pinnedFingerprint: string, presented: HostKey): HostError {
  return new HostError({
    code: 'HOST_KEY_MISMATCH',
    host: address.name,
    message:
      `The host key of ${address.name} (${address.host}:${address.port}) has changed: pinned ${pinnedFingerprint}, ` +
      `presented ${presented.fingerprint}. dvx refused to connect.`,
    action:
      `If you have verified that ${address.name} was reinstalled or its SSH keys regenerated, pin the new key with ` +
      `\`dvx env refresh ${address.name} --accept-new-host-key\`. Otherwise someone may be intercepting the connection.`,
    details: {
      address: `${address.host}:${address.port}`,
      pinnedFingerprint,
      presentedFingerprint: presented.fingerprint,
    },
  });
}

/**
 * Connects to `address` and returns the key the host presents, so that an environment can pin it. No credentials are
 * needed: the handshake stops right after the key is seen.
 */
export async function fetchHostKey(
  address: Pick<HostAddress, 'name' | 'host' | 'port'>,
  options: FetchHostKeyOptions = {},
): Promise<HostKey> {
  const { timeoutMs } = { ...FETCH_HOST_KEY_DEFAULTS, ...options };
  const client = new ssh2.Client();
  return new Promise<HostKey>((resolve, reject) => {
    let seen: HostKey | undefined;
    const finish = (error?: unknown) => {
      client.removeAllListeners('ready');
      client.on('error', () => undefined);
      client.end();
      if (seen) resolve(seen);
      else
        reject(
          toDvxError(error ?? new Error('The host closed the connection before presenting a key'), {
            host: address.name,
            doing: 'fetch its host key',
          }),
        );
    };
    client.on('error', (error) => finish(error));
    client.on('close', () => finish());
    client.on('ready', () => finish());
    client.connect({
      host: address.host,
      port: address.port,
      username: 'dvx-host-key-probe',
      readyTimeout: timeoutMs,
      hostVerifier: (key: Buffer) => {
        seen = hostKeyFromWire(key);
        return false;
      },
    });
  });
}
