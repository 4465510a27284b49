import type { ParsedKey } from 'ssh2';
import type { KeySigner } from './host-connection.js';

/** Reads one DER INTEGER at `offset`: its content bytes (two's complement, big-endian) and where the next item starts. */
function derInteger(der: Buffer, offset: number): { value: Buffer; next: number } {
  if (der[offset] !== 0x02) throw new Error('Malformed DER signature: INTEGER expected');
  let length = der[offset + 1] ?? 0;
  let start = offset + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    length = 0;
    for (let i = 0; i < bytes; i += 1) length = length * 256 + (der[start + i] ?? 0);
    start += bytes;
  }
  if (start + length > der.length) throw new Error('Malformed DER signature: INTEGER overruns');
  return { value: der.subarray(start, start + length), next: start + length };
}

/** r and s of a DER `SEQUENCE { INTEGER r, INTEGER s }`, as OpenSSL (hence ssh2) signs ECDSA and DSA. */
function derSignatureParts(der: Buffer): [Buffer, Buffer] {
  if (der[0] !== 0x30) throw new Error('Malformed DER signature: SEQUENCE expected');
  const first = der[1] ?? 0;
  const body = first & 0x80 ? 2 + (first & 0x7f) : 2;
  const r = derInteger(der, body);
  const s = derInteger(der, r.next);
  return [r.value, s.value];
}

function sshString(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** `value` as an unsigned big-endian number of exactly `size` bytes. */
function fixedWidth(value: Buffer, size: number): Buffer {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start += 1;
  const bytes = value.subarray(start);
  if (bytes.length > size) throw new Error('Malformed DSA signature: value too large');
  return Buffer.concat([Buffer.alloc(size - bytes.length), bytes]);
}

/**
 * A signature blob in the SSH wire format (what agents answer, RFC 5656 section 3.1.2 and RFC 4253 section 6.6):
 * ssh2 signs ECDSA and DSA keys in DER, the format of OpenSSL; Ed25519 and RSA signatures are the same in both.
 */
export function sshSignature(signature: Buffer, keyType: string): Buffer {
  if (keyType.startsWith('ecdsa-sha2-')) {
    if (signature[0] !== 0x30) return signature;
    const [r, s] = derSignatureParts(signature);
    // DER INTEGERs are minimal two's complement, exactly what an SSH mpint is.
    return Buffer.concat([sshString(r), sshString(s)]);
  }
  if (keyType === 'ssh-dss') {
    if (signature.length === 40) return signature;
    const [r, s] = derSignatureParts(signature);
    return Buffer.concat([fixedWidth(r, 20), fixedWidth(s, 20)]);
  }
  return signature;
}

/** A {@link KeySigner} over a parsed private key; the key stays in this closure. */
export function keySignerFor(key: ParsedKey): KeySigner {
  const publicKey = key.getPublicSSH();
  return {
    type: key.type,
    publicKey,
    sign(data, hash) {
      const signature: Buffer | Error = key.sign(data, hash);
      if (signature instanceof Error) throw signature;
      return sshSignature(signature, key.type);
    },
  };
}
