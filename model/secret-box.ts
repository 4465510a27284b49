import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DvxError } from '../errors/index.js';

const PREFIX = 'dvx-secret:v1:';
const KEY_FILE = 'secret.key';

/**
 * Encrypts secrets at rest (environment passwords and keys, plugin fields with format password) with
 * AES-256-GCM. The key lives in `<dataDir>/secret.key` (mode 0600, created at first start) or in
 * `DVX_SECRET_KEY` (base64 of 32 bytes); Redis only ever holds ciphertext.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static fromKey(key: Buffer): SecretBox {
    if (key.length !== 32)
      throw new DvxError({ code: 'CONFIG_INVALID', message: `The secret key must be 32 bytes; it is ${key.length}.` });
    return new SecretBox(key);
  }

  static random(): SecretBox {
    return new SecretBox(randomBytes(32));
  }

  /** The data directory's key, created on first use; `DVX_SECRET_KEY` wins when set. */
  static async forDataDir(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<SecretBox> {
    if (env.DVX_SECRET_KEY) return SecretBox.fromKey(Buffer.from(env.DVX_SECRET_KEY, 'base64'));
    const path = join(dataDir, KEY_FILE);
    try {
      return SecretBox.fromKey(Buffer.from((await readFile(path, 'utf8')).trim(), 'base64'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const key = randomBytes(32);
    try {
      await writeFile(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
      return new SecretBox(key);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return SecretBox.forDataDir(dataDir, env);
    }
  }

  static isSealed(value: unknown): value is string {
    return typeof value === 'string' && value.startsWith(PREFIX);
  }

  seal(plaintext: string): string {
    if (SecretBox.isSealed(plaintext)) return plaintext;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  open(sealed: string): string {
    if (!SecretBox.isSealed(sealed)) return sealed;
    const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new DvxError({
        code: 'CONFIG_INVALID',
        message: "A stored secret cannot be decrypted with this engine's key.",
        action: 'Start the engine with the data directory (secret.key) or DVX_SECRET_KEY it was created with.',
      });
    }
  }
}
