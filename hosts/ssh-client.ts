import ssh2, { type AnyAuthMethod, type BaseAgent, type Client, type ConnectConfig, type ParsedKey } from 'ssh2';
import { HostError, toDvxError } from '../errors/index.js';
import type { HostSpec } from './host-connection.js';
import {
  hostKeyAlgorithmsFor,
  hostKeyFromWire,
  hostKeyMismatchError,
  type HostKey,
  type ParsedPin,
} from './host-key.js';

/** Transport settings of one ssh2 client. */
export interface SshClientSettings {
  readyTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
}

/** Credentials checked and parsed once, so that a bad key fails as bad input rather than as an auth failure. */
export type ParsedCredentials = { kind: 'key'; key: ParsedKey } | { kind: 'password'; password: string };

/** Validates `spec.credentials`: exactly one of a readable private key or a password. */
export function parseCredentials(spec: HostSpec): ParsedCredentials {
  const { privateKey, passphrase, password } = spec.credentials;
  const name = spec.address.name;
  if (password !== undefined && privateKey === undefined) return { kind: 'password', password };
  if (privateKey === undefined || password !== undefined) {
    throw new HostError({
      code: 'HOST_BAD_INPUT',
      host: name,
      message: `The credentials of ${name} must hold exactly one of a private key or a password.`,
      action: 'Give either a private key (and its passphrase, if any) or a password for this environment.',
    });
  }
  const parsed = ssh2.utils.parseKey(privateKey, passphrase);
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
  if (!key || key instanceof Error || !key.isPrivateKey()) {
    throw new HostError({
      code: 'HOST_BAD_INPUT',
      host: name,
      message: `The private key given for ${name} could not be read${passphrase === undefined ? '' : ' (is the passphrase right?)'}.`,
      action: 'Give an unencrypted or correctly passphrased private key in OpenSSH or PEM format.',
    });
  }
  return { kind: 'key', key };
}

function authMethods(spec: HostSpec, credentials: ParsedCredentials): AnyAuthMethod[] {
  const username = spec.address.user;
  if (credentials.kind === 'key') return [{ type: 'publickey', username, key: credentials.key }];
  const { password } = credentials;
  return [
    { type: 'password', username, password },
    // Hosts that only offer PAM's keyboard-interactive still ask for the same password.
    {
      type: 'keyboard-interactive',
      username,
      prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => password)),
    },
  ];
}

/** Options of {@link openSshClient}. */
export interface OpenSshClientOptions {
  settings: SshClientSettings;
  /** The key the host must present; anything else fails with HOST_KEY_MISMATCH. */
  trusted?: ParsedPin;
  /** An agent to forward to commands that ask for it. */
  agent?: BaseAgent;
}

/** A connected and authenticated ssh2 client, with the key the host presented. */
export interface OpenedSshClient {
  client: Client;
  hostKey: HostKey;
}

/**
 * Connects and authenticates one ssh2 client to `spec`, verifying the host key. Every failure comes back as a
 * HostError: key mismatch from the verifier, everything else through `toDvxError`.
 */
export function openSshClient(
  spec: HostSpec,
  credentials: ParsedCredentials,
  options: OpenSshClientOptions,
): Promise<OpenedSshClient> {
  const { address } = spec;
  const { settings, trusted } = options;
  const client = new ssh2.Client();
  return new Promise<OpenedSshClient>((resolve, reject) => {
    let presented: HostKey | undefined;
    let mismatch = false;
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      client.end();
      if (mismatch && presented && trusted) reject(hostKeyMismatchError(address, trusted.fingerprint, presented));
      else reject(toDvxError(error, { host: address.name, doing: 'connect' }));
    };
    const onClose = () =>
      fail(
        Object.assign(new Error('The host closed the connection during the SSH handshake'), { level: 'client-socket' }),
      );
    client.on('error', fail);
    client.on('close', onClose);
    client.once('ready', () => {
      if (settled) return;
      // ssh2 verifies the host key before it is ready, so a key was presented; if not, the handshake failed.
      if (!presented) {
        fail(new Error('The host did not present a host key during the SSH handshake'));
        return;
      }
      settled = true;
      // The owner attaches its own listeners; until then an error must not crash the process.
      client.on('error', () => undefined);
      client.removeListener('error', fail);
      client.removeListener('close', onClose);
      resolve({ client, hostKey: presented });
    });
    const algorithms = hostKeyAlgorithmsFor(trusted?.type);
    const config: ConnectConfig = {
      host: address.host,
      port: address.port,
      username: address.user,
      readyTimeout: settings.readyTimeoutMs,
      keepaliveInterval: settings.keepaliveIntervalMs,
      keepaliveCountMax: settings.keepaliveCountMax,
      authHandler: authMethods(spec, credentials),
      hostVerifier: (key: Buffer) => {
        presented = hostKeyFromWire(key);
        mismatch = trusted !== undefined && presented.fingerprint !== trusted.fingerprint;
        return !mismatch;
      },
      ...(algorithms
        ? { algorithms: { serverHostKey: algorithms as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] } }
        : {}),
      ...(options.agent ? { agent: options.agent, agentForward: true } : {}),
    };
    try {
      client.connect(config);
      // Commands are small request/response exchanges: Nagle's algorithm would add ~40 ms to each.
      client.setNoDelay(true);
    } catch (error) {
      fail(error);
    }
  });
}
