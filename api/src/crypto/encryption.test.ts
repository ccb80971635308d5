import { describe, expect, it } from 'vitest';
import { Encryptor } from './encryption.js';
import { hashPassword, verifyPassword } from './password.js';

const key = (fill: number): string => Buffer.alloc(32, fill).toString('base64');

describe('Encryptor (AES-256-GCM with key ids)', () => {
  it('round-trips, never repeats a ciphertext, and refuses tampering or another context', () => {
    const enc = new Encryptor(`k1:${key(1)}`);
    const a = enc.encrypt('lab results attached', 'message:c1');
    const b = enc.encrypt('lab results attached', 'message:c1');
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(enc.decrypt(a, 'message:c1').toString()).toBe('lab results attached');
    const raw = Buffer.from(a.ciphertext, 'base64url');
    raw[raw.length - 1]! ^= 1;
    expect(() => enc.decrypt({ ...a, ciphertext: raw.toString('base64url') }, 'message:c1')).toThrow();
    expect(() => enc.decrypt(a, 'message:c2')).toThrow(); // a body moved to another conversation
  });

  it('encrypts with the first key and decrypts with any listed one', () => {
    const old = new Encryptor(`k1:${key(1)}`);
    const rotated = new Encryptor(`k2:${key(2)},k1:${key(1)}`);
    const before = old.encrypt('x');
    expect(rotated.decrypt(before).toString()).toBe('x');
    expect(rotated.encrypt('y').keyId).toBe('k2');
    expect(() => old.decrypt(rotated.encrypt('y'))).toThrow(/unknown encryption key id k2/);
    expect(() => new Encryptor('k1:c2hvcnQ=')).toThrow(/32 bytes/);
  });
});

describe('passwords (scrypt)', () => {
  it('verifies the right password only, with a fresh salt each time', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct horse!', a)).toBe(false);
    expect(await verifyPassword('correct horse', 'plain-text')).toBe(false);
  });
});
