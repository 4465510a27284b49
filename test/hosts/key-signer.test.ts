import { createPublicKey, randomBytes, verify } from 'node:crypto';
import ssh2, { type ParsedKey } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { keySignerFor } from '../../hosts/key-signer.js';
import { must } from '../harness/must.js';

function parse(text: string): ParsedKey {
  const parsed = ssh2.utils.parseKey(text);
  if (parsed instanceof Error || Array.isArray(parsed)) throw new Error('unreadable test key');
  return parsed;
}

/** Reads the SSH strings of a blob. */
function sshStrings(blob: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < blob.length;) {
    const length = blob.readUInt32BE(offset);
    parts.push(blob.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return parts;
}

function unsigned(value: Buffer, size: number): Buffer {
  const bytes = value[0] === 0 ? value.subarray(1) : value;
  return Buffer.concat([Buffer.alloc(size - bytes.length), bytes]);
}

describe('keySignerFor', () => {
  it.each([
    ['ecdsa', 256, 'sha256', 32],
    ['ecdsa', 384, 'sha384', 48],
    ['ecdsa', 521, 'sha512', 66],
  ] as const)(
    'signs with an %s-%i key in the SSH wire format (two mpints), which verifies',
    (type, bits, hash, size) => {
      const pair = ssh2.utils.generateKeyPairSync(type, { bits });
      const signer = keySignerFor(parse(pair.private));
      for (let i = 0; i < 20; i += 1) {
        const data = randomBytes(64);
        const [first, second] = sshStrings(signer.sign(data));
        const r = must(first, 'the mpint r');
        const s = must(second, 'the mpint s');
        // mpints: no superfluous leading zero, and one exactly when the high bit is set.
        for (const mpint of [r, s])
          expect(mpint[0] === 0 ? (mpint[1] ?? 0) >= 0x80 : must(mpint[0], 'the first byte of an mpint') < 0x80).toBe(
            true,
          );
        const p1363 = Buffer.concat([unsigned(r, size), unsigned(s, size)]);
        const key = createPublicKey(parse(pair.public).getPublicPEM());
        expect(verify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, p1363)).toBe(true);
      }
    },
  );

  it('leaves Ed25519 and RSA signatures as they are', () => {
    for (const [type, options] of [
      ['ed25519', {}],
      ['rsa', { bits: 2048 }],
    ] as const) {
      const pair = ssh2.utils.generateKeyPairSync(type, options);
      const key = parse(pair.private);
      const data = randomBytes(64);
      const signature = keySignerFor(key).sign(data);
      expect(parse(pair.public).verify(data, signature)).toBe(true);
    }
  });
});
