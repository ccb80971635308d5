import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCallback, type ScryptOptions } from 'node:crypto';
import { z } from 'zod';
import { BackupError } from './backup-error.js';

// The key ring (ENCRYPTION_KEY) sealed with an operator passphrase: scrypt derives a 256-bit key,
// AES-256-GCM encrypts and authenticates. Kept apart from the data: a stolen backup without this
// file (or its passphrase) reads as ciphertext only.

const FORMAT = 'telemed-key-ring';
/** scrypt cost: ~64 MiB and ~0.3 s per derivation on a small server; stored in the file. */
const COST = { N: 2 ** 16, r: 8, p: 1 } as const;
export const MIN_PASSPHRASE_CHARS = 12;

const SealedKeyRing = z.object({
  format: z.literal(FORMAT),
  version: z.literal(1),
  kdf: z.object({
    name: z.literal('scrypt'),
    N: z
      .number()
      .int()
      .min(2 ** 14)
      .max(2 ** 22),
    r: z.number().int().min(1).max(32),
    p: z.number().int().min(1).max(16),
    salt: z.string(),
  }),
  cipher: z.literal('aes-256-gcm'),
  iv: z.string(),
  tag: z.string(),
  ciphertext: z.string(),
  /** The key ids inside (not secret), so an operator can tell key files apart. */
  keyIds: z.array(z.string()),
  createdAt: z.string(),
});

function deriveKey(passphrase: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r };
  return new Promise((resolve, reject) => scryptCallback(passphrase.normalize('NFC'), salt, 32, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** The key ids of an ENCRYPTION_KEY value (`id:base64[,id:base64…]`, a bare key is k1). */
export function keyRingIds(keyRing: string): string[] {
  return keyRing
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => (part.includes(':') ? part.split(':', 1)[0]! : 'k1'));
}

export function checkPassphrase(passphrase: string): void {
  if (passphrase.length < MIN_PASSPHRASE_CHARS) throw new BackupError('usage', `the backup passphrase must be at least ${MIN_PASSPHRASE_CHARS} characters`);
}

/** The key ring encrypted with the passphrase, as the key file's bytes (JSON). */
export async function sealKeyRing(keyRing: string, passphrase: string): Promise<Buffer> {
  checkPassphrase(passphrase);
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = await deriveKey(passphrase, salt, COST);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(FORMAT));
  const ciphertext = Buffer.concat([cipher.update(keyRing, 'utf8'), cipher.final()]);
  const sealed: z.infer<typeof SealedKeyRing> = {
    format: FORMAT,
    version: 1,
    kdf: { name: 'scrypt', ...COST, salt: salt.toString('base64') },
    cipher: 'aes-256-gcm',
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
    keyIds: keyRingIds(keyRing),
    createdAt: new Date().toISOString(),
  };
  return Buffer.from(`${JSON.stringify(sealed, null, 2)}\n`);
}

/** The key ring from a key file; BackupError('passphrase') when the passphrase is wrong or the file is not one. */
export async function openKeyRing(file: Buffer, passphrase: string): Promise<string> {
  let sealed: z.infer<typeof SealedKeyRing>;
  try {
    sealed = SealedKeyRing.parse(JSON.parse(file.toString('utf8')));
  } catch {
    throw new BackupError('passphrase', 'the key file is not a Telemed key ring file (made by `telemed backup`)');
  }
  const key = await deriveKey(passphrase, Buffer.from(sealed.kdf.salt, 'base64'), sealed.kdf);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
  decipher.setAAD(Buffer.from(FORMAT));
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new BackupError('passphrase', 'wrong passphrase, or the key file was changed (it does not decrypt)');
  }
}
