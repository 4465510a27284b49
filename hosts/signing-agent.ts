import { Duplex } from 'node:stream';
import ssh2, {
  type GetStreamCallback,
  type IdentityCallback,
  type ParsedKey,
  type SignCallback,
  type SigningRequestOptions,
} from 'ssh2';
import type { KeySigner } from './host-connection.js';

// OpenSSH agent protocol (draft-miller-ssh-agent): the few messages a forwarded agent needs.
const SSH_AGENT_FAILURE = 5;
const SSH_AGENTC_REQUEST_IDENTITIES = 11;
const SSH_AGENT_IDENTITIES_ANSWER = 12;
const SSH_AGENTC_SIGN_REQUEST = 13;
const SSH_AGENT_SIGN_RESPONSE = 14;
const SSH_AGENT_RSA_SHA2_256 = 2;
const SSH_AGENT_RSA_SHA2_512 = 4;
const MAX_MESSAGE = 256 * 1024;

function sshString(value: Buffer | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function frame(type: number, ...fields: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from([type]), ...fields]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

function readString(buffer: Buffer, offset: number): { value: Buffer; next: number } | undefined {
  if (offset + 4 > buffer.length) return undefined;
  const length = buffer.readUInt32BE(offset);
  if (offset + 4 + length > buffer.length) return undefined;
  return { value: buffer.subarray(offset + 4, offset + 4 + length), next: offset + 4 + length };
}

/**
 * The agent side of one forwarded agent channel. Answers identity and sign requests for the single key of `signer`
 * and refuses everything else (including extensions such as session-bind, which OpenSSH clients send first).
 * ssh2's own AgentProtocol mis-parses unknown messages that carry a payload, hence this small implementation.
 */
class AgentChannel extends Duplex {
  #buffer = Buffer.alloc(0);
  readonly #signer: KeySigner;

  constructor(signer: KeySigner) {
    super();
    this.#signer = signer;
  }

  override _read(): void {
    // Replies are pushed as requests arrive.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    while (this.#buffer.length >= 4) {
      const length = this.#buffer.readUInt32BE(0);
      if (length === 0 || length > MAX_MESSAGE) {
        callback(new Error('Malformed agent message'));
        return;
      }
      if (this.#buffer.length < 4 + length) break;
      const message = this.#buffer.subarray(4, 4 + length);
      this.#buffer = this.#buffer.subarray(4 + length);
      this.push(this.#answer(message));
    }
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.push(null);
    callback();
  }

  #answer(message: Buffer): Buffer {
    const type = message[0];
    const { publicKey } = this.#signer;
    if (type === SSH_AGENTC_REQUEST_IDENTITIES) {
      const count = Buffer.alloc(4);
      count.writeUInt32BE(1);
      return frame(SSH_AGENT_IDENTITIES_ANSWER, count, sshString(publicKey), sshString('dvx'));
    }
    if (type === SSH_AGENTC_SIGN_REQUEST) {
      const key = readString(message, 1);
      const data = key && readString(message, key.next);
      if (!key || !data || data.next + 4 > message.length || !key.value.equals(publicKey))
        return frame(SSH_AGENT_FAILURE);
      const flags = message.readUInt32BE(data.next);
      let format = this.#signer.type;
      let hash: 'sha256' | 'sha512' | undefined;
      if (format === 'ssh-rsa' && flags & SSH_AGENT_RSA_SHA2_512) [format, hash] = ['rsa-sha2-512', 'sha512'];
      else if (format === 'ssh-rsa' && flags & SSH_AGENT_RSA_SHA2_256) [format, hash] = ['rsa-sha2-256', 'sha256'];
      try {
        return frame(
          SSH_AGENT_SIGN_RESPONSE,
          sshString(Buffer.concat([sshString(format), sshString(this.#signer.sign(data.value, hash))])),
        );
      } catch {
        return frame(SSH_AGENT_FAILURE);
      }
    }
    return frame(SSH_AGENT_FAILURE);
  }
}

/**
 * An SSH agent living in the engine process that holds one key (through a {@link KeySigner}) and serves forwarded
 * agent channels. Nothing is written to disk; it lives as long as the connection that forwards it.
 */
export class SigningAgent extends ssh2.BaseAgent<ParsedKey> {
  readonly #signer: KeySigner;
  readonly #publicKey: ParsedKey;

  constructor(signer: KeySigner) {
    super();
    const parsed = ssh2.utils.parseKey(signer.publicKey);
    if (parsed instanceof Error) throw parsed;
    this.#signer = signer;
    this.#publicKey = parsed;
  }

  override getIdentities(cb: IdentityCallback<ParsedKey>): void {
    cb(undefined, [this.#publicKey]);
  }

  override sign(
    pubKey: ParsedKey,
    data: Buffer,
    options: SigningRequestOptions | SignCallback,
    cb?: SignCallback,
  ): void {
    const callback = typeof options === 'function' ? options : cb;
    const hash = typeof options === 'object' ? options.hash : undefined;
    try {
      if (!pubKey.getPublicSSH().equals(this.#signer.publicKey)) throw new Error('Unknown key');
      callback?.(undefined, this.#signer.sign(data, hash === 'sha256' || hash === 'sha512' ? hash : undefined));
    } catch (error) {
      callback?.(error as Error);
    }
  }

  override getStream(cb: GetStreamCallback): void {
    cb(undefined, new AgentChannel(this.#signer));
  }
}
