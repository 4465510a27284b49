import { createRequire } from 'node:module';
import type { ParsedKey } from 'ssh2';
import type { KeySigner } from './host-connection.js';

// ssh2 signs ECDSA/DSA keys in DER; the SSH wire format (what agents answer) needs its conversion helper.
const { convertSignature } = createRequire(import.meta.url)('ssh2/lib/protocol/utils.js') as {
  convertSignature(signature: Buffer, keyType: string): Buffer | false | undefined;
};

/** A {@link KeySigner} over a parsed private key; the key stays in this closure. */
export function keySignerFor(key: ParsedKey): KeySigner {
  const publicKey = key.getPublicSSH();
  return {
    type: key.type,
    publicKey,
    sign(data, hash) {
      const signature: Buffer | Error = key.sign(data, hash);
      if (signature instanceof Error) throw signature;
      const converted = convertSignature(signature, key.type);
      if (!converted) throw new Error(`Could not encode a ${key.type} signature`);
      return converted;
    },
  };
}
