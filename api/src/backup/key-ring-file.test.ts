import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BackupError } from './backup-error.js';
import { keyRingIds, openKeyRing, sealKeyRing } from './key-ring-file.js';

describe('the sealed key ring file', () => {
  const keyRing = `k2:${randomBytes(32).toString('base64')},k1:${randomBytes(32).toString('base64')}`;
  const passphrase = 'a passphrase of some length';

  it('opens with the passphrase; holds neither the key ring nor the passphrase in clear', async () => {
    const file = await sealKeyRing(keyRing, passphrase);
    for (const secret of [...keyRing.split(',').map((p) => p.split(':')[1]!), passphrase]) expect(file.includes(Buffer.from(secret))).toBe(false);
    expect(JSON.parse(file.toString())).toMatchObject({ format: 'telemed-key-ring', kdf: { name: 'scrypt' }, cipher: 'aes-256-gcm', keyIds: ['k2', 'k1'] });
    expect(await openKeyRing(file, passphrase)).toBe(keyRing);
    expect(keyRingIds('bare-base64-key')).toEqual(['k1']);
  });

  it('refuses a wrong passphrase, a changed file, another kind of file, and short passphrases', async () => {
    const file = await sealKeyRing(keyRing, passphrase);
    await expect(openKeyRing(file, `${passphrase}!`)).rejects.toMatchObject({ code: 'passphrase', message: expect.stringMatching(/wrong passphrase/) });
    const sealed = JSON.parse(file.toString()) as { ciphertext: string };
    const bytes = Buffer.from(sealed.ciphertext, 'base64');
    bytes[0]! ^= 1;
    await expect(openKeyRing(Buffer.from(JSON.stringify({ ...sealed, ciphertext: bytes.toString('base64') })), passphrase)).rejects.toMatchObject({
      code: 'passphrase',
    });
    await expect(openKeyRing(Buffer.from('ENCRYPTION_KEY=k1:abc'), passphrase)).rejects.toThrow(/not a Telemed key ring file/);
    const short = await sealKeyRing(keyRing, 'short').catch((e: unknown) => e);
    expect(short).toBeInstanceOf(BackupError);
    expect((short as BackupError).exitCode).toBe(64);
  });
});
